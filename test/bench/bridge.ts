/**
 * `npm run bench:bridge [-- --calls 100 --seconds 30 --input-rate 8000 --output-rate 8000 --audio-input-ms 20
 *   --idle-audio-input-ms 40 --lead-ms 100 --send-ms 40 --event-signing ours|sdk]`
 *
 * N concurrent calls straight into one bridge (the edge left out) against the Nova Sonic simulator. The
 * bridge runs in a child process so that its CPU and memory are its own; the phones (Twilio stand-ins
 * with real speech fixtures) and the simulator run here. Each call: greeting, then the caller speaks a
 * fixture and waits for the answer, over and over. Printed (no assertions):
 *   uplink    caller frame received by the bridge → its signed audioInput handed to the HTTP/2 stream
 *   downlink  model audio event received → converted to μ-law and queued for playback (the first frames
 *             of a reply leave at once: reply start = model audio received → first frame sent)
 *   pacing    how late the playback timer fired (jitter of the 20 ms release), and underruns
 *   CPU per active call (% of one core) and memory per call (RSS growth / N: the median of one reading a
 *   second over the window, with the range and the end reading; JS heap+external growth / N at the end)
 */
import { type ChildProcess, fork } from "node:child_process";
import { parseArgs } from "node:util";
import type { EventLoopFigures } from "../../bridge/event-loop-watch.ts";
import { BRIDGE_NODE_FLAGS } from "../../bridge/node-flags.ts";
import { startNovaSimulator } from "../../bridge/simulator/server.ts";
import { Logger } from "../../shared/log.ts";
import { BridgePhone } from "../bridge-phone.ts";
import { loadAudioFixtures, type SpeechFixture } from "../fixtures/fixtures.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "100" },
    seconds: { type: "string", default: "30" },
    "input-rate": { type: "string", default: "8000" },
    "output-rate": { type: "string", default: "8000" },
    "audio-input-ms": { type: "string", default: "20" },
    "lead-ms": { type: "string", default: "100" },
    "idle-audio-input-ms": { type: "string", default: "40" },
    "send-ms": { type: "string", default: "40" },
    /**
     * Input event encoding and signing: "ours" (bridge/nova/event-marshaller.ts and event-signing.ts, the
     * product's) or "sdk" (the SDK's own marshaller and payload handler, to compare).
     */
    "event-signing": { type: "string", default: "ours" },
  },
});
const CALLS = Number(values.calls);
const SECONDS = Number(values.seconds);
const SECRET = "bench-bridge-secret-0123456789";

type Samples = Record<"uplinkMs" | "uplinkQueueMs" | "downlinkMs" | "replyStartMs" | "lateTickMs", number[]>;
interface Report {
  kind: "report";
  cpuMicros: number;
  wallMs: number;
  memory: NodeJS.MemoryUsage;
  memoryAfterGc: NodeJS.MemoryUsage | null;
  /** The bridge's RSS once a second over the measured window, in bytes. */
  rssSamples: number[];
  samples: Samples;
  underruns: number;
  callsEnded: number;
  activeCalls: number;
  eventLoop: EventLoopFigures;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function line(label: string, values: number[]): string {
  const f = (v: number) => v.toFixed(3).padStart(8);
  return `${label.padEnd(44)} p50 ${f(percentile(values, 50))} ms  p99 ${f(percentile(values, 99))} ms  max ${f(
    percentile(values, 100),
  )} ms  (n=${values.length})`;
}

function request<T>(child: ChildProcess, kind: string, answer: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: { kind: string }) => {
      if (message.kind !== answer) return;
      child.off("message", listener);
      resolve(message as T);
    };
    child.on("message", listener);
    child.send({ kind });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runCaller(url: string, utterances: SpeechFixture[], index: number, until: () => boolean) {
  const phone = await BridgePhone.connect({ baseUrl: url, secret: SECRET });
  phone.start();
  try {
    await phone.waitFor(() => phone.controlsOf("turn").length >= 1, 30_000, "greeting");
    for (let turn = 0; !until() && phone.closeCode === null; turn++) {
      const before = phone.controlsOf("turn").length;
      await phone.say(utterances[(index + turn) % utterances.length]!.mulaw);
      await phone.waitFor(() => phone.controlsOf("turn").length > before, 30_000, "answer");
    }
  } catch (error) {
    console.error(`call ${index}: ${String(error)}`);
  }
  return phone;
}

async function main(): Promise<void> {
  const simulator = await startNovaSimulator({ logger: new Logger({}, { level: "error" }), seed: 3 });
  const env = {
    BRIDGE_SECRET: SECRET,
    BRIDGE_REGION: "us-east-1",
    BRIDGE_HOST: "127.0.0.1",
    BRIDGE_PORT: "0",
    MAX_CALLS: String(CALLS + 10),
    NOVA_INPUT_SAMPLE_RATE_HZ: values["input-rate"],
    NOVA_OUTPUT_SAMPLE_RATE_HZ: values["output-rate"],
    NOVA_AUDIO_INPUT_MS: values["audio-input-ms"],
    PLAYBACK_LEAD_MS: values["lead-ms"],
    NOVA_IDLE_AUDIO_INPUT_MS: values["idle-audio-input-ms"],
    PLAYBACK_SEND_MS: values["send-ms"],
    LOG_LEVEL: "warn",
    BENCH_SIM_URL: simulator.url,
    BENCH_EVENT_SIGNING: values["event-signing"],
  };
  const child = fork(new URL("./bridge-child.ts", import.meta.url), {
    env: { ...process.env, BENCH_BRIDGE_ENV: JSON.stringify(env) },
    execPath: process.execPath,
    execArgv: [
      "--expose-gc",
      // As the image runs it (bridge/Dockerfile); BENCH_NODE_FLAGS replaces these.
      ...(process.env.BENCH_NODE_FLAGS?.split(" ").filter(Boolean) ?? BRIDGE_NODE_FLAGS),
      ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
  });
  const { url } = await new Promise<{ url: string }>((resolve) =>
    child.once("message", (message: { kind: string; url: string }) => resolve(message)),
  );
  await sleep(500);
  const baseline = (await request<{ memory: NodeJS.MemoryUsage }>(child, "memory", "memory")).memory;

  const utterances = loadAudioFixtures().filter((f): f is SpeechFixture => f.kind === "speech");
  let stopping = false;
  const callers: Array<Promise<BridgePhone>> = [];
  for (let i = 0; i < CALLS; i++) {
    callers.push(runCaller(url, utterances, i, () => stopping));
    await sleep(2000 / CALLS); // ramp over 2 s so that the calls are not in lock-step
  }
  await sleep(5000); // let every call reach its first turns
  await request(child, "mark", "marked");
  await sleep(SECONDS * 1000);
  const report = await request<Report>(child, "report", "report");
  stopping = true;
  const phones = await Promise.all(callers);
  await Promise.all(phones.map((phone) => phone.hangUp()));
  await sleep(500);
  const ended = await request<Report>(child, "report", "report");
  child.send({ kind: "stop" });
  await simulator.close();

  const s = report.samples;
  const cpuPercentPerCall = ((report.cpuMicros / 1000 / report.wallMs) * 100) / report.activeCalls;
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
  const perCall = (after: number, before: number) => mb((after - before) / report.activeCalls);
  const turns = phones.reduce((sum, phone) => sum + phone.controlsOf("turn").length, 0);
  const errors = phones.reduce((sum, phone) => sum + phone.controlsOf("error").length, 0);
  console.log(
    `bridge bench: ${report.activeCalls} concurrent calls, ${(report.wallMs / 1000).toFixed(1)} s measured, model rates in ${values["input-rate"]} / out ${values["output-rate"]} Hz, ${values["audio-input-ms"]} ms per audioInput (${values["idle-audio-input-ms"]} ms idle), lead ${values["lead-ms"]} ms, ${values["send-ms"]} ms per media message, event signing: ${values["event-signing"]}, ${process.version}`,
  );
  console.log(line("uplink: frame in → signed audioInput out", s.uplinkMs));
  console.log(line("  of which: frame in → audioInput queued", s.uplinkQueueMs));
  console.log(line("downlink: model audio in → queued as μ-law", s.downlinkMs));
  console.log(line("  reply start: model audio in → first frame out", s.replyStartMs));
  console.log(line("pacing: playback tick lateness (jitter)", s.lateTickMs));
  console.log(`playback underruns (all calls, whole run): ${ended.underruns} over ${ended.callsEnded} calls`);
  console.log(
    `CPU per active call: ${cpuPercentPerCall.toFixed(3)} % of one core (bridge process total ${(
      (report.cpuMicros / 1000 / report.wallMs) * 100
    ).toFixed(1)} %)`,
  );
  const rss = [...report.rssSamples].sort((a, b) => a - b);
  const rssMedian = percentile(rss, 50);
  console.log(
    `memory per call: RSS ${perCall(rssMedian, baseline.rss)} MB (the window's median; ${perCall(rss[0] ?? Number.NaN, baseline.rss)}-${perCall(rss.at(-1) ?? Number.NaN, baseline.rss)} MB over ${rss.length} readings, ${perCall(report.memory.rss, baseline.rss)} MB at the end), JS heap+external at the end ${perCall(
      report.memory.heapUsed + report.memory.external,
      baseline.heapUsed + baseline.external,
    )} MB (bridge RSS ${mb(rssMedian)} MB with calls, ${mb(baseline.rss)} MB idle)`,
  );
  const live = report.memoryAfterGc;
  const liveIdle = ended.memoryAfterGc; // every call ended; what stays (caches, pools) is not per call
  if (live && liveIdle) {
    console.log(
      `memory per call after a full GC (what the calls hold, against after they ended): RSS ${perCall(live.rss, liveIdle.rss)} MB, JS heap+external ${perCall(
        live.heapUsed + live.external,
        liveIdle.heapUsed + liveIdle.external,
      )} MB`,
    );
  }
  // The bridge's own watch (bridge/event-loop-watch.ts, GET /metrics), over the measured window.
  const { lateMs, stalls, gc } = report.eventLoop;
  console.log(
    `bridge event loop: a 10 ms check ran late by p50 ${lateMs.p50} ms, p99 ${lateMs.p99} ms, max ${lateMs.max} ms; ${stalls.count} stalls over ${stalls.thresholdMs} ms; GC ${gc.count} pauses, ${gc.totalMs} ms total, max ${gc.maxMs} ms`,
  );
  console.log(`turns completed: ${turns}, error controls: ${errors}`);
  process.exit(0);
}

void main();
