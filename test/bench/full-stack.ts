/**
 * `npm run bench [-- --calls 100 --stagger-ms 5000 --pause-ms 600 --latency-ms 300/600 --seed 1]`
 *   other options: --edge workerd|wrangler-dev, --barge-in-after-ms 700, --log-level info,
 *   --out-dir bench-results, --profile-dir DIR (V8 CPU profile of the bridge), --verbose (every
 *   process's output)
 *
 * The headline figures of the whole system. Starts the local stack (the edge straight in workerd as in
 * production, or with --edge wrangler-dev behind `wrangler dev`'s proxy; one bridge, the Nova Sonic
 * simulator; free ports), places one warm-up call, then N concurrent calls
 * (Twilio-faithful phones in this process, starts spread over --stagger-ms): greeting, three caller
 * turns from the speech fixtures, one barge-in. Timestamps from the phone, the bridge's call record
 * (GET /calls/{sid} on the edge) and the simulator's session records (one clock) split each turn into
 * upstream, model time (excluded) and downstream. Prints p50/p95/p99 with the targets beside them (no
 * assertions), CPU and memory per process, and every failed call; writes the JSON and an HTML report
 * to bench-results/.
 */
import { type FSWatcher, mkdirSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { simulatorControl } from "../../bridge/simulator/control-client.ts";
import type { SessionRecord } from "../../bridge/simulator/records.ts";
import { loadAudioFixtures, type SpeechFixture } from "../fixtures/fixtures.ts";
import { nowMs, placeCall } from "../phone/phone-call.ts";
import { fetchCallRecord } from "../phone/waterfall.ts";
import { newCallIdentity } from "../phone/webhook.ts";
import {
  DEV_DEFAULTS,
  EDGE_RUNTIMES,
  type EdgeRuntime,
  freePort,
  isEdgeRuntime,
  type RunningStack,
  startLocalStack,
} from "../stack/local-stack.ts";
import { workerdV8FlagsValue } from "../stack/workerd-v8-flags.ts";
import { type CallMeasure, type CallOutcome, measureCall } from "./call-measures.ts";
import { BENCH_UTTERANCES, type BenchCallPlan, benchCallPlan, benchUtterance } from "./call-scripts.ts";
import { computeFigures } from "./full-stack-figures.ts";
import { formatRun, type RunSettings, resourceRows } from "./full-stack-table.ts";
import { HealthProbe } from "./health-probe.ts";
import { renderReport } from "./report-html.ts";
import { ResourceMonitor } from "./resource-monitor.ts";
import { matchSessions } from "./session-matching.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "100" },
    edge: { type: "string", default: "workerd" },
    "stagger-ms": { type: "string", default: "5000" },
    "pause-ms": { type: "string", default: "600" },
    "latency-ms": { type: "string", default: "300/600" },
    seed: { type: "string", default: "1" },
    "barge-in-after-ms": { type: "string", default: "700" },
    "log-level": { type: "string", default: "info" },
    "out-dir": { type: "string", default: "bench-results" },
    "profile-dir": { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});

function positiveInteger(name: string, raw: string | undefined, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be an integer ≥ ${min} (got "${raw}")`);
    process.exit(2);
  }
  return value;
}

function edgeRuntime(raw: string | undefined): EdgeRuntime {
  if (raw !== undefined && isEdgeRuntime(raw)) return raw;
  console.error(`--edge must be ${EDGE_RUNTIMES.join(" or ")} (got "${raw}")`);
  process.exit(2);
}

const CALLS = positiveInteger("calls", values.calls, 1);
/** Production has no dev proxy in front of the Worker: workerd straight is the default. */
const EDGE_RUNTIME = edgeRuntime(values.edge);
const STAGGER_MS = positiveInteger("stagger-ms", values["stagger-ms"], 0);
const BARGE_IN_AFTER_MS = positiveInteger("barge-in-after-ms", values["barge-in-after-ms"], 100);
const SIM_ENV: Record<string, string> = {
  SIM_PAUSE_MS: String(positiveInteger("pause-ms", values["pause-ms"], 0)),
  SIM_LATENCY_MS: values["latency-ms"] ?? "300/600",
  SIM_SEED: String(positiveInteger("seed", values.seed, 0)),
  SIM_BARGE_IN_DETECTION_MS: "0",
  SIM_CONNECTION_SETUP_MS: "0",
};
const BRIDGE_ENV: Record<string, string> = {
  NOVA_ENDPOINTING: "HIGH",
  MAX_CALLS: String(Math.max(100, CALLS + 10)),
  // --profile-dir: the bridge writes a V8 CPU profile there when it stops (open it in Chrome DevTools);
  // BENCH_BRIDGE_NODE_OPTIONS adds Node options of its own (those NODE_OPTIONS allows, e.g. --max-semi-space-size=32).
  ...(values["profile-dir"] || process.env.BENCH_BRIDGE_NODE_OPTIONS
    ? {
        NODE_OPTIONS: [
          values["profile-dir"] ? `--cpu-prof --cpu-prof-dir=${values["profile-dir"]}` : "",
          process.env.BENCH_BRIDGE_NODE_OPTIONS ?? "",
        ]
          .join(" ")
          .trim(),
      }
    : {}),
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Keeps the last lines of each process and counts warnings and errors (JSON log levels). */
function outputCollector() {
  const tail: string[] = [];
  const counts: Record<string, { warn: number; error: number }> = {};
  return {
    tail,
    counts,
    onOutput(name: string, line: string): void {
      const entry = counts[name] ?? { warn: 0, error: 0 };
      counts[name] = entry;
      if (/"level":"error"|\bError\b/.test(line) && !/workers\.cloudflare\.com/.test(line)) entry.error += 1;
      else if (/"level":"warn"/.test(line)) entry.warn += 1;
      tail.push(`[${name}] ${line}`);
      if (tail.length > 400) tail.splice(0, 100);
      if (values.verbose) console.log(`[${name}] ${line}`);
    },
  };
}

/**
 * `wrangler dev` rebuilds and reloads the Worker when its sources change, which drops every call in
 * flight: in a tree that others are editing, note each change so that a spoiled run says so. (The workerd
 * edge runs the bundle made at start and does not reload.)
 */
function watchEdgeSources(): { changes: Array<{ file: string; atMs: number }>; close(): void } {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const changes: Array<{ file: string; atMs: number }> = [];
  const watchers: FSWatcher[] = [];
  for (const path of ["edge", "shared", "wrangler.toml"]) {
    try {
      const recursive = !path.endsWith(".toml");
      watchers.push(
        watch(join(root, path), { recursive }, (_event, file) => {
          const name = recursive ? join(path, String(file ?? "")) : path;
          if (!changes.some((change) => change.file === name)) changes.push({ file: name, atMs: nowMs() });
        }),
      );
    } catch {
      // Not watchable here: the run simply cannot warn about reloads.
    }
  }
  return { changes, close: () => watchers.forEach((watcher) => void watcher.close()) };
}

async function runCall(stack: RunningStack, plan: BenchCallPlan): Promise<CallOutcome> {
  const identity = newCallIdentity();
  const startedAtMs = nowMs();
  const outcome: CallOutcome = {
    plan,
    startedAtMs,
    endedAtMs: startedAtMs,
    callSid: identity.callSid,
    result: null,
    error: null,
    record: null,
    recordError: null,
  };
  try {
    outcome.result = await placeCall({
      edgeBaseUrl: stack.edgeUrl,
      authToken: DEV_DEFAULTS.TWILIO_AUTH_TOKEN,
      script: plan.steps,
      identity,
      tailMs: 300,
    });
  } catch (error) {
    outcome.error = error instanceof Error ? error.message : String(error);
  }
  outcome.endedAtMs = nowMs();
  return outcome;
}

async function attachRecords(stack: RunningStack, outcomes: CallOutcome[]): Promise<void> {
  for (const outcome of outcomes) {
    if (outcome.result?.twimlKind !== "stream") continue;
    try {
      outcome.record = await fetchCallRecord(stack.edgeUrl, DEV_DEFAULTS.ADMIN_TOKEN, outcome.callSid);
    } catch (error) {
      outcome.recordError = error instanceof Error ? error.message : String(error);
    }
  }
}

function matchAll(outcomes: CallOutcome[], sessions: SessionRecord[]): CallMeasure[] {
  const matches = matchSessions(
    outcomes.map((outcome) => ({
      callIndex: outcome.plan.callIndex,
      turns: (outcome.result?.turns ?? []).map((turn) => ({
        text: turn.text ?? turn.label,
        speechEndMs: turn.speechEndMs,
      })),
    })),
    sessions.map((session) => ({ sessionId: session.id, turns: session.turns })),
  );
  const byId = new Map(sessions.map((session) => [session.id, session]));
  return outcomes.map((outcome) => {
    const match = matches.get(outcome.plan.callIndex);
    return measureCall(outcome, match ? (byId.get(match.sessionId) ?? null) : null);
  });
}

function observedSettings(sessions: SessionRecord[]): RunSettings["observed"] {
  const distinct = (pick: (session: SessionRecord) => unknown) =>
    [...new Set(sessions.map(pick).filter((value) => value !== undefined))].join("|") || "?";
  return {
    inputSampleRateHz: distinct((session) => session.inputSampleRateHz),
    outputSampleRateHz: distinct((session) => session.outputSampleRateHz),
    endpointing: distinct((session) => session.endpointingSensitivity),
    pauseMs: distinct((session) => session.pauseMs),
  };
}

/** The call whose system-added latency is the median of the calls without failures. */
function sampleCall(calls: CallMeasure[]): CallMeasure | null {
  const scored = calls
    .filter((call) => call.failures.length === 0)
    .map((call) => {
      const values = call.turns.flatMap((turn) => (turn.systemMs === null ? [] : [turn.systemMs]));
      return { call, mean: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length) };
    })
    .sort((a, b) => a.mean - b.mean);
  return scored[Math.floor(scored.length / 2)]?.call ?? calls[0] ?? null;
}

async function main(): Promise<void> {
  const fixtures = loadAudioFixtures().filter(
    (fixture): fixture is SpeechFixture =>
      fixture.kind === "speech" && (BENCH_UTTERANCES as readonly string[]).includes(fixture.name),
  );
  const utterances = fixtures.map((fixture) => benchUtterance(fixture));
  const output = outputCollector();
  const edgeName = EDGE_RUNTIME === "workerd" ? "straight in workerd" : "in wrangler dev";
  console.log(`starting the local stack (edge ${edgeName}, bridge, Nova Sonic simulator) …`);
  const stack = await startLocalStack({
    edgePort: await freePort(),
    edgeRuntime: EDGE_RUNTIME,
    bridgePorts: [await freePort()],
    backend: { kind: "simulator", port: await freePort(), env: SIM_ENV },
    twilioAuthToken: DEV_DEFAULTS.TWILIO_AUTH_TOKEN,
    adminToken: DEV_DEFAULTS.ADMIN_TOKEN,
    bridgeSecret: DEV_DEFAULTS.BRIDGE_SECRET,
    region: "us-east-1",
    bridgeEnv: BRIDGE_ENV,
    logLevel: values["log-level"] ?? "info",
    onOutput: output.onOutput,
  });
  const interrupted = () => void stack.stop().then(() => process.exit(130));
  process.once("SIGINT", interrupted);
  try {
    const control = simulatorControl(stack.simulatorUrl ?? "");
    console.log("warm-up call …");
    const warmUp = await runCall(stack, benchCallPlan(0, utterances, BARGE_IN_AFTER_MS));
    if (!warmUp.result) throw new Error(`the warm-up call failed: ${warmUp.error}`);
    await control.clearSessions();

    const pid = (name: string) => stack.processes.get(name)?.pid ?? -1;
    // The edge's tree: under wrangler dev, two workerd (its proxy and the Worker) below wrangler's node
    // processes and esbuild; straight, one workerd below the node process that hosts Miniflare.
    const monitor = new ResourceMonitor([
      {
        name: EDGE_RUNTIME === "workerd" ? "edge: workerd" : "edge: workerd (proxy + Worker)",
        pid: pid("edge"),
        tree: true,
        include: (comm) => comm === "workerd",
      },
      {
        name: EDGE_RUNTIME === "workerd" ? "edge: node (Miniflare host)" : "edge: wrangler, esbuild",
        pid: pid("edge"),
        tree: true,
        include: (comm) => comm !== "workerd",
      },
      { name: "bridge", pid: pid("bridge-1"), tree: true },
      { name: "simulator (the model)", pid: pid("simulator"), tree: true },
      { name: "phones (this process)", pid: process.pid, tree: false },
    ]);
    console.log(`placing ${CALLS} calls over ${STAGGER_MS} ms …`);
    const sourceWatch =
      EDGE_RUNTIME === "wrangler-dev" ? watchEdgeSources() : { changes: [], close: () => {} };
    const probe = new HealthProbe([
      { name: "bridge /healthz", url: `${stack.bridgeUrls[0]}/healthz` },
      {
        name:
          EDGE_RUNTIME === "workerd"
            ? "edge /healthz (the Worker's socket)"
            : "edge /healthz (through wrangler's proxy)",
        url: `${stack.edgeUrl}/healthz`,
      },
    ]);
    monitor.start();
    probe.start();
    const firstStartMs = nowMs();
    const running: Array<Promise<CallOutcome>> = [];
    for (let index = 0; index < CALLS; index++) {
      await sleep(firstStartMs + (index * STAGGER_MS) / Math.max(1, CALLS - 1) - nowMs());
      running.push(runCall(stack, benchCallPlan(index, utterances, BARGE_IN_AFTER_MS)));
    }
    const progress = setInterval(() => {
      void control.health().then(
        (health) => console.log(`  … ${health.activeSessions} model sessions active`),
        () => {},
      );
    }, 10_000);
    const outcomes = await Promise.all(running);
    clearInterval(progress);
    const resources = monitor.stop();
    const probes = probe.stop();
    sourceWatch.close();
    const callSeconds = outcomes.reduce((total, o) => total + (o.endedAtMs - o.startedAtMs) / 1000, 0);

    await attachRecords(stack, outcomes);
    const sessions = await control.sessions();
    const calls = matchAll(outcomes, sessions);
    const figures = computeFigures(calls, 3);
    const settings: RunSettings = {
      calls: CALLS,
      edgeRuntime: EDGE_RUNTIME,
      workerdV8Flags: workerdV8FlagsValue(process.env),
      staggerMs: STAGGER_MS,
      bargeInAfterHeardMs: BARGE_IN_AFTER_MS,
      simEnv: SIM_ENV,
      bridgeEnv: BRIDGE_ENV,
      observed: observedSettings(sessions),
      startedAt: new Date(firstStartMs).toISOString(),
    };
    const rows = resourceRows(resources, callSeconds, CALLS);
    console.log("");
    const run = { settings, figures, resources, rows, callSeconds, probes };
    console.log(formatRun(run));
    const logs = Object.entries(output.counts)
      .map(([name, count]) => `${name} ${count.error} errors/${count.warn} warnings`)
      .join(", ");
    console.log(`process logs: ${logs}`);
    if (sourceWatch.changes.length > 0) {
      const list = sourceWatch.changes
        .map((change) => `${change.file} at +${((change.atMs - firstStartMs) / 1000).toFixed(1)} s`)
        .join(", ");
      console.log(
        `WARNING: edge sources changed during the run (${list}); wrangler dev reloaded the Worker and dropped the calls in flight. Run again on a quiet tree.`,
      );
    }

    const outDir = values["out-dir"] ?? "bench-results";
    mkdirSync(outDir, { recursive: true });
    const stamp = settings.startedAt.replace(/[:.]/g, "-");
    const jsonPath = join(outDir, `full-stack-${stamp}.json`);
    const htmlPath = join(outDir, `full-stack-${stamp}.html`);
    const { samples, ...summary } = figures;
    writeFileSync(
      jsonPath,
      `${JSON.stringify({ settings, figures: summary, edgeSourceChanges: sourceWatch.changes, probes, resources, resourceRows: rows, callSeconds, logs: output.counts, samples, calls }, null, 1)}\n`,
    );
    writeFileSync(htmlPath, renderReport({ ...run, sample: sampleCall(calls) }));
    console.log(`\nresults: ${jsonPath}\nreport:  ${htmlPath}`);
    if (figures.calls.failed.length > 0 && values.verbose) console.log(output.tail.slice(-60).join("\n"));
  } finally {
    process.off("SIGINT", interrupted);
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(
    `the benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
