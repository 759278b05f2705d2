/**
 * The full-stack run as one self-contained HTML page (inline CSS and SVG, no scripts): the settings, the
 * latency table with targets, histograms of the main figures, the per-turn waterfall of one sample call,
 * CPU and memory per process, and the failed calls.
 */
import type { CallMeasure, ReplyTurnMeasure } from "./call-measures.ts";
import type { FigureKey, FigureRow } from "./full-stack-figures.ts";
import type { ResourceRow, RunResult } from "./full-stack-table.ts";
import { histogram, niceWidth, summarise } from "./percentiles.ts";

export interface ReportInput extends RunResult {
  sample: CallMeasure | null;
}

const COLORS = { ours: "#2f6fdf", model: "#b9b9b9", edge: "#e07b28", bridge: "#2a9d6f", sim: "#8a5cc7" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "—";
}

// ---- histograms --------------------------------------------------------------------------------------

const HISTOGRAMS: ReadonlyArray<{ key: FigureKey; title: string; targetMs?: number; targetLabel?: string }> =
  [
    {
      key: "systemAdded",
      title: "System-added latency per turn (upstream + downstream)",
      targetMs: 40,
      targetLabel: "p99 target",
    },
    { key: "upstream", title: "Upstream: phone sends last speech frame → simulator receives it" },
    { key: "downstream", title: "Downstream: simulator sends first reply audio → phone receives it" },
    {
      key: "greetingFirstHeard",
      title: "Greeting: first audio heard after `start`",
      targetMs: 50,
      targetLabel: "p95 target",
    },
    {
      key: "bargeInClear",
      title: "Barge-in: caller speech onset → `clear` received",
      targetMs: 150,
      targetLabel: "p95 target",
    },
    {
      key: "bargeInHeardAfterOnset",
      title: "Barge-in: reply audio heard after the onset",
      targetMs: 200,
      targetLabel: "p95 target",
    },
  ];

export function histogramSvg(
  values: readonly number[],
  title: string,
  targetMs?: number,
  targetLabel?: string,
): string {
  const width = 560;
  const height = 230;
  const left = 48;
  const right = 16;
  const top = 34;
  const bottom = 40;
  const { bins, overflow } = histogram(values, 40);
  const stats = summarise(values);
  const head = `<text x="${left}" y="16" class="title">${escapeHtml(title)}</text><text x="${left}" y="30" class="sub">n=${stats.count}  p50 ${fmt(stats.p50)}  p95 ${fmt(stats.p95)}  p99 ${fmt(stats.p99)}  max ${fmt(stats.max)} ms${overflow ? `  (${overflow} beyond the axis, in the last bar)` : ""}</text>`;
  if (bins.length === 0) {
    return `<svg viewBox="0 0 ${width} ${height}" class="chart">${head}<text x="${left}" y="${height / 2}" class="sub">no samples</text></svg>`;
  }
  const fromMs = bins[0]!.fromMs;
  const toMs = Math.max(
    bins.at(-1)!.toMs,
    targetMs !== undefined && targetMs < bins.at(-1)!.toMs * 1.6 ? targetMs * 1.05 : 0,
  );
  const maxCount = Math.max(...bins.map((bin) => bin.count));
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (ms: number) => left + ((ms - fromMs) / (toMs - fromMs)) * plotW;
  const y = (count: number) => top + plotH - (count / maxCount) * plotH;
  const parts: string[] = [head];
  for (const bin of bins) {
    if (bin.count === 0) continue;
    const x0 = x(bin.fromMs);
    const w = Math.max(1, x(bin.toMs) - x0 - 1);
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${y(bin.count).toFixed(1)}" width="${w.toFixed(1)}" height="${(top + plotH - y(bin.count)).toFixed(1)}" fill="${COLORS.ours}"><title>${fmt(bin.fromMs)}–${fmt(bin.toMs)} ms: ${bin.count}</title></rect>`,
    );
  }
  parts.push(
    `<line x1="${left}" y1="${top + plotH}" x2="${width - right}" y2="${top + plotH}" class="axis"/>`,
  );
  const step = niceWidth((toMs - fromMs) / 6);
  const digits = Number.isInteger(step) ? 0 : 1;
  for (let ms = Math.ceil(fromMs / step) * step; ms <= toMs + 1e-9; ms += step) {
    const at = x(ms).toFixed(1);
    parts.push(`<line x1="${at}" y1="${top + plotH}" x2="${at}" y2="${top + plotH + 4}" class="axis"/>`);
    parts.push(
      `<text x="${at}" y="${top + plotH + 16}" class="tick" text-anchor="middle">${fmt(ms, digits)}</text>`,
    );
  }
  parts.push(`<text x="${width - right}" y="${height - 6}" class="tick" text-anchor="end">ms</text>`);
  parts.push(`<text x="${left - 6}" y="${top + 8}" class="tick" text-anchor="end">${maxCount}</text>`);
  const marker = (ms: number, label: string, cls: string, row: number) => {
    if (!(ms >= fromMs && ms <= toMs)) return;
    parts.push(
      `<line x1="${x(ms).toFixed(1)}" y1="${top}" x2="${x(ms).toFixed(1)}" y2="${top + plotH}" class="${cls}"/>`,
    );
    const nearRight = x(ms) > width - right - 70;
    const labelX = (nearRight ? x(ms) - 3 : x(ms) + 3).toFixed(1);
    const anchor = nearRight ? "end" : "start";
    parts.push(
      `<text x="${labelX}" y="${top + 10 + row * 11}" class="tick ${cls}" text-anchor="${anchor}">${label}</text>`,
    );
  };
  marker(stats.p50, "p50", "p50", 0);
  marker(stats.p95, "p95", "p95", 1);
  marker(stats.p99, "p99", "p99", 2);
  if (targetMs !== undefined) marker(targetMs, targetLabel ?? "target", "target", 3);
  return `<svg viewBox="0 0 ${width} ${height}" class="chart">${parts.join("")}</svg>`;
}

// ---- the waterfall -----------------------------------------------------------------------------------

interface Segment {
  label: string;
  ms: number | null;
  color: string;
  model?: boolean;
}

function turnSegments(turn: ReplyTurnMeasure): Segment[] {
  return [
    { label: "upstream: phone → simulator", ms: turn.upstreamMs, color: COLORS.ours },
    { label: "model: pause + latency (not ours)", ms: turn.modelMs, color: COLORS.model, model: true },
    { label: "simulator → bridge", ms: turn.simToBridgeMs, color: COLORS.sim },
    { label: "bridge: audio in → frame out", ms: turn.bridgeInsideMs, color: COLORS.bridge },
    { label: "bridge → edge → phone", ms: turn.bridgeToPhoneMs, color: COLORS.edge },
  ];
}

/** One row per step; each bar starts where the one above ended. Model time is drawn at a fixed width. */
export function waterfallSvg(call: CallMeasure): string {
  const width = 1100;
  const labelW = 250;
  const modelW = 90;
  const rowH = 18;
  const blocks: Array<{ title: string; note: string; segments: Segment[] }> = [];
  const greeting = call.greeting;
  if (greeting) {
    blocks.push({
      title: "greeting (from the phone's `start`)",
      note: `first frame ${fmt(greeting.firstFrameMs ?? Number.NaN)} ms, heard ${fmt(greeting.firstHeardMs ?? Number.NaN)} ms after start`,
      segments: [
        { label: "start → simulator has the request", ms: greeting.startToRequestMs, color: COLORS.ours },
        { label: "model latency (not ours)", ms: greeting.modelMs, color: COLORS.model, model: true },
        { label: "simulator → phone", ms: greeting.downstreamMs, color: COLORS.ours },
      ],
    });
  }
  for (const turn of call.turns) {
    const e2e = turn.phoneFirstFrameMs === null ? Number.NaN : turn.phoneFirstFrameMs - turn.phoneSpeechEndMs;
    blocks.push({
      title: `"${turn.label}"${turn.spokenOverReply ? " (spoken over the previous reply)" : ""} — from the caller's last speech frame`,
      note: `system-added ${fmt(turn.systemMs ?? Number.NaN)} ms; caller stops → first reply frame ${fmt(e2e)} ms`,
      segments: turnSegments(turn),
    });
  }
  const oursMax = Math.max(
    1,
    ...blocks.map((block) => block.segments.reduce((total, s) => total + (s.model ? 0 : (s.ms ?? 0)), 0)),
  );
  const scale = (width - labelW - modelW - 160) / oursMax;
  const parts: string[] = [];
  let yPos = 8;
  for (const block of blocks) {
    parts.push(`<text x="0" y="${yPos + 12}" class="title">${escapeHtml(block.title)}</text>`);
    parts.push(
      `<text x="${width}" y="${yPos + 12}" class="sub" text-anchor="end">${escapeHtml(block.note)}</text>`,
    );
    yPos += rowH + 4;
    let xPos = labelW;
    for (const segment of block.segments) {
      parts.push(
        `<text x="${labelW - 8}" y="${yPos + 12}" class="tick" text-anchor="end">${escapeHtml(segment.label)}</text>`,
      );
      const ms = segment.ms;
      const w = ms === null ? 0 : segment.model ? modelW : Math.max(1, ms * scale);
      if (ms !== null) {
        const fill = segment.model ? "url(#hatch)" : segment.color;
        parts.push(
          `<rect x="${xPos.toFixed(1)}" y="${yPos + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${fill}"/>`,
        );
      }
      parts.push(
        `<text x="${(xPos + w + 5).toFixed(1)}" y="${yPos + 12}" class="tick">${ms === null ? "no data" : `${fmt(ms)} ms`}</text>`,
      );
      xPos += w;
      yPos += rowH;
    }
    yPos += 10;
  }
  const defs = `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e4e4e4"/><line x1="0" y1="0" x2="0" y2="6" stroke="${COLORS.model}" stroke-width="3"/></pattern></defs>`;
  return `<svg viewBox="0 0 ${width} ${yPos}" class="waterfall">${defs}${parts.join("")}</svg>`;
}

// ---- the page ----------------------------------------------------------------------------------------

function figureTable(rows: readonly FigureRow[]): string {
  const body = rows
    .map((row) => {
      const s = row.summary;
      const d = row.unit === "count" ? 0 : 1;
      const target = row.target
        ? `<td>${escapeHtml(row.target.text)}</td><td class="${row.target.met ? "met" : "missed"}">${row.target.met ? "meets" : "misses"}</td>`
        : "<td></td><td></td>";
      return `<tr class="depth${row.depth}"><td>${escapeHtml(row.label)}</td><td>${s.count}</td><td>${fmt(s.p50, d)}</td><td>${fmt(s.p95, d)}</td><td>${fmt(s.p99, d)}</td><td>${fmt(s.max, d)}</td>${target}</tr>`;
    })
    .join("\n");
  return `<table><thead><tr><th>latency (ms)</th><th>n</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th>target</th><th></th></tr></thead><tbody>${body}</tbody></table>`;
}

function resourceTable(rows: readonly ResourceRow[]): string {
  const body = rows
    .map(
      (row) =>
        `<tr><td>${escapeHtml(row.name)}<span class="sub"> (${escapeHtml(row.processes.join(", "))})</span></td><td>${fmt(row.cpuMs, 0)}</td><td>${fmt(row.corePercent)}</td><td>${fmt(row.cpuMsPerCallSecond, 2)}</td><td>${fmt(row.cpuMsPerCallSecond / 10, 3)}</td><td>${fmt(row.startRssMb, 0)} → ${fmt(row.peakRssMb, 0)}</td><td>${fmt(row.rssMbPerCall, 2)}</td></tr>`,
    )
    .join("\n");
  return `<table><thead><tr><th>process</th><th>CPU ms</th><th>% of one core</th><th>ms CPU per call-second</th><th>% core per call</th><th>RSS MB start → peak</th><th>MB per call</th></tr></thead><tbody>${body}</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1140px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#555;margin:2px 0}table{border-collapse:collapse;margin:6px 0}
td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}td:first-child,th:first-child{text-align:left}
tr.depth1 td:first-child{padding-left:26px;color:#444}tr.depth2 td:first-child{padding-left:46px;color:#666}
.met{color:#1f7a3a;font-weight:600}.missed{color:#b3261e;font-weight:600}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:12px}svg .title{font-size:13px;font-weight:600}
svg .sub,.sub{font-size:11px;fill:#555;color:#666}svg .tick{font-size:11px;fill:#333}
svg .axis{stroke:#888}svg .p50{stroke:#222;fill:#222}svg .p95{stroke:#c77700;fill:#c77700}
svg .p99{stroke:#b3261e;fill:#b3261e}svg .target{stroke:#1f7a3a;fill:#1f7a3a;stroke-dasharray:4 3}
svg line.p50,svg line.p95,svg line.p99{stroke-width:1.5}.chart{width:100%;background:#fafafa}
.waterfall{width:100%}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 14px;vertical-align:-1px}`;

export function renderReport(input: ReportInput): string {
  const { settings, figures, resources, rows, callSeconds, probes, sample } = input;
  const env = (vars: Record<string, string>) =>
    Object.entries(vars)
      .map(([key, value]) => `${key}=${value}`)
      .join(" ");
  const loads = (values: number[]) => values.map((value) => value.toFixed(2)).join(" ");
  const histograms = HISTOGRAMS.map((h) =>
    histogramSvg(figures.samples[h.key], h.title, h.targetMs, h.targetLabel),
  ).join("\n");
  const failed = figures.calls.failed
    .map(
      (call) =>
        `<li>#${call.callIndex} ${escapeHtml(call.callSid)}: ${escapeHtml(call.reasons.join("; "))}</li>`,
    )
    .join("\n");
  const loop = resources.eventLoopDelayMs;
  const legend = `<p class="legend"><span style="background:${COLORS.ours}"></span>ours (upstream / greeting set-up)<span style="background:${COLORS.sim}"></span>simulator → bridge<span style="background:${COLORS.bridge}"></span>inside the bridge<span style="background:${COLORS.edge}"></span>bridge → edge → phone<span style="background:#ccc"></span>model (not to scale)</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Full-stack benchmark ${escapeHtml(settings.startedAt)}</title><style>${CSS}</style></head>
<body>
<h1>Full-stack benchmark — ${settings.calls} concurrent calls</h1>
<p class="meta">${escapeHtml(settings.startedAt)} · starts spread over ${settings.staggerMs} ms · each call: greeting, three caller turns, a barge-in ${settings.bargeInAfterHeardMs} ms into the second reply</p>
<p class="meta">edge: ${settings.edgeRuntime === "workerd" ? "straight in workerd" : "wrangler dev"} · simulator: ${escapeHtml(env(settings.simEnv))} · bridge: ${escapeHtml(env(settings.bridgeEnv))} · model audio ${escapeHtml(settings.observed.inputSampleRateHz)} Hz in / ${escapeHtml(settings.observed.outputSampleRateHz)} Hz out</p>
<p class="meta">machine: ${resources.machine.cores} cores, load ${loads(resources.machine.loadBefore)} → ${loads(resources.machine.loadAfter)}, all cores ${fmt(resources.machine.busyPercent, 0)}% busy over ${fmt(resources.windowMs / 1000)} s (${fmt(callSeconds, 0)} call-seconds) · bench event loop delay p99 ${fmt(loop.p99)} ms</p>
<p class="meta">calls: ${figures.calls.placed} placed, ${figures.calls.ok} ok, <b>${figures.calls.failed.length} failed</b> · turns measured ${figures.turns.measured}/${figures.turns.expected} · speech alignment ${figures.turns.speechAligned}/${figures.turns.speechChecked}</p>
<h2>Figures</h2>
${figureTable(figures.rows)}
<h2>Distributions</h2>
<div class="charts">${histograms}</div>
<h2>Waterfall of a sample call${sample ? ` (${escapeHtml(sample.callSid)}, median system-added)` : ""}</h2>
${legend}
${sample ? waterfallSvg(sample) : "<p>no call to show</p>"}
<h2>CPU and memory</h2>
${resourceTable(rows)}
${probes
  .map(
    (probe) =>
      `<p class="meta">${escapeHtml(probe.name)} answered in p50 ${fmt(probe.responseMs.p50)} ms, p99 ${fmt(probe.responseMs.p99)} ms, max ${fmt(probe.responseMs.max)} ms (${probe.responseMs.count} checks, ${probe.failures} failed or timed out)</p>`,
  )
  .join("\n")}
<h2>Failed calls (${figures.calls.failed.length})</h2>
${failed ? `<ul>${failed}</ul>` : "<p>none</p>"}
</body></html>
`;
}
