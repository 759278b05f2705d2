/**
 * The printed result of a full-stack run: the settings and the machine's load, the latency table with
 * targets, CPU and memory per process, and every failed call.
 */
import type { EdgeRuntime } from "../stack/local-stack.ts";
import type { FigureRow, Figures } from "./full-stack-figures.ts";
import type { ProbeFigures } from "./health-probe.ts";
import type { ResourceFigures } from "./resource-monitor.ts";

export interface RunSettings {
  calls: number;
  /** How the edge ran: straight in workerd, or behind `wrangler dev`'s proxy. */
  edgeRuntime: EdgeRuntime;
  /** The local workerd's V8 flags (MINIFLARE_WORKERD_V8_FLAGS). */
  workerdV8Flags: string;
  staggerMs: number;
  bargeInAfterHeardMs: number;
  simEnv: Record<string, string>;
  bridgeEnv: Record<string, string>;
  /** From the simulator's session records: what the bridge asked for. */
  observed: { inputSampleRateHz: string; outputSampleRateHz: string; endpointing: string; pauseMs: string };
  startedAt: string;
}

export interface ResourceRow {
  name: string;
  processes: string[];
  cpuMs: number;
  /** Share of one core over the window. */
  corePercent: number;
  /** CPU ms per second of call (equals % of one core per call × 10). */
  cpuMsPerCallSecond: number;
  startRssMb: number;
  peakRssMb: number;
  rssMbPerCall: number;
}

export function resourceRows(resources: ResourceFigures, callSeconds: number, calls: number): ResourceRow[] {
  return resources.processes.map((process) => ({
    name: process.name,
    processes: process.processes,
    cpuMs: process.cpuMs,
    corePercent: (100 * process.cpuMs) / resources.windowMs,
    cpuMsPerCallSecond: callSeconds > 0 ? process.cpuMs / callSeconds : Number.NaN,
    startRssMb: process.startRssBytes / 1e6,
    peakRssMb: process.peakRssBytes / 1e6,
    rssMbPerCall: calls > 0 ? (process.peakRssBytes - process.startRssBytes) / 1e6 / calls : Number.NaN,
  }));
}

function num(value: number, digits = 1, width = 8): string {
  return (Number.isFinite(value) ? value.toFixed(digits) : "—").padStart(width);
}

function figureLine(row: FigureRow): string {
  const digits = row.unit === "count" ? 0 : 1;
  const label = `${"  ".repeat(row.depth)}${row.label}`.padEnd(44);
  const s = row.summary;
  const target = row.target ? `${row.target.text.padEnd(20)} ${row.target.met ? "meets" : "MISSES"}` : "";
  return `${label}${String(s.count).padStart(6)}${num(s.p50, digits)}${num(s.p95, digits)}${num(s.p99, digits)}${num(s.max, digits)}   ${target}`;
}

const loads = (values: number[]) => values.map((value) => value.toFixed(2)).join(" ");

export interface RunResult {
  settings: RunSettings;
  figures: Figures;
  resources: ResourceFigures;
  rows: readonly ResourceRow[];
  callSeconds: number;
  probes: readonly ProbeFigures[];
}

export function formatRun({ settings, figures, resources, rows, callSeconds, probes }: RunResult): string {
  const lines: string[] = [];
  const env = (vars: Record<string, string>) =>
    Object.entries(vars)
      .map(([key, value]) => `${key}=${value}`)
      .join(" ");
  lines.push(
    `full stack: ${settings.calls} calls started over ${settings.staggerMs} ms; each: greeting, 3 caller turns, barge-in ${settings.bargeInAfterHeardMs} ms into the 2nd reply`,
  );
  lines.push(
    `edge:      ${settings.edgeRuntime === "workerd" ? "workerd, the Worker's own socket (no dev proxy)" : "wrangler dev (its proxy workerd in front of the Worker's)"}; workerd V8 flags: ${settings.workerdV8Flags.trim() || "V8's defaults"}`,
  );
  lines.push(`simulator: ${env(settings.simEnv)}`);
  lines.push(
    `bridge:    ${env(settings.bridgeEnv)}; model audio in ${settings.observed.inputSampleRateHz} Hz / out ${settings.observed.outputSampleRateHz} Hz, endpointing ${settings.observed.endpointing} (pause ${settings.observed.pauseMs} ms)`,
  );
  lines.push(
    `machine:   ${resources.machine.cores} cores, load ${loads(resources.machine.loadBefore)} before → ${loads(resources.machine.loadAfter)} after; all cores ${resources.machine.busyPercent.toFixed(0)}% busy over the ${(resources.windowMs / 1000).toFixed(1)} s window (${callSeconds.toFixed(0)} call-seconds)`,
  );
  const { calls, turns } = figures;
  lines.push(
    `calls:     ${calls.placed} placed, ${calls.ok} ok, ${calls.failed.length} failed; turns measured ${turns.measured}/${turns.expected}; simulator heard the speech the bench expected in ${turns.speechAligned}/${turns.speechChecked} turns`,
  );
  lines.push("");
  lines.push(
    `${"latency (ms)".padEnd(44)}${"n".padStart(6)}${"p50".padStart(8)}${"p95".padStart(8)}${"p99".padStart(8)}${"max".padStart(8)}   target`,
  );
  for (const row of figures.rows) {
    if (row.key === "underrunsPerCall") lines.push("");
    lines.push(figureLine(row));
  }
  const by = Object.entries(figures.interruptedBy)
    .map(([who, count]) => `${who} ${count}`)
    .join(", ");
  lines.push(`barge-in decided by: ${by || "—"}; underruns in all: ${figures.underrunsTotal}`);
  lines.push("");
  lines.push(
    `${"resources".padEnd(30)}${"CPU ms".padStart(9)}${"% core".padStart(8)}${"ms CPU/call-s".padStart(15)}${"% core/call".padStart(13)}${"RSS MB start→peak".padStart(20)}${"MB/call".padStart(9)}`,
  );
  for (const row of rows) {
    lines.push(
      `${row.name.padEnd(30)}${num(row.cpuMs, 0, 9)}${num(row.corePercent, 1)}${num(row.cpuMsPerCallSecond, 2, 15)}${num(row.cpuMsPerCallSecond / 10, 3, 13)}${`${num(row.startRssMb, 0, 0)}→${num(row.peakRssMb, 0, 0)}`.padStart(20)}${num(row.rssMbPerCall, 2, 9)}`,
    );
  }
  const loop = resources.eventLoopDelayMs;
  lines.push(
    `bench event loop (phones) delay: p50 ${loop.p50.toFixed(1)} ms, p99 ${loop.p99.toFixed(1)} ms, max ${loop.max.toFixed(1)} ms`,
  );
  for (const probe of probes) {
    const r = probe.responseMs;
    lines.push(
      `${probe.name} answered in p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms (${r.count} checks, ${probe.failures} failed or timed out)`,
    );
  }
  for (const process of resources.processes) {
    if (process.restarted) {
      lines.push(
        `WARNING: ${process.name} lost a process during the run (restarted?): the connections through it were dropped`,
      );
    }
  }
  if (calls.failed.length > 0) {
    lines.push("");
    const kinds = Object.entries(calls.byFirstReason)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, count]) => `${kind} ×${count}`)
      .join(", ");
    lines.push(`failed calls (${calls.failed.length}), by first reason: ${kinds}`);
    for (const failed of calls.failed.slice(0, 20)) {
      lines.push(`  #${failed.callIndex} ${failed.callSid}: ${failed.reasons.join("; ")}`);
    }
    if (calls.failed.length > 20) lines.push(`  … and ${calls.failed.length - 20} more (see the JSON)`);
  }
  return lines.join("\n");
}
