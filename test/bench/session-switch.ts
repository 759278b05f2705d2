/**
 * `npm run bench:sessions [-- --calls 3 --seconds 24 --limit-ms 4000 --rollover-ms 2500 --margin-ms 1000
 *    --latency-ms 300/600 --setup-ms 150]`
 *
 * Long calls and recovery, measured against the simulator with its session limit compressed to seconds
 * (the bridge and the simulator in this process, the real AWS SDK between them). Printed (no assertions):
 *   per session switch: why (quiet / forced / deadline), the session's age, whether the caller was
 *     hearing the agent, the heard gap (the longest silence breaking the agent's speech right after the
 *     switch, from the phone's side: 0 = continuous), and the caller-audio gap at the model (the new
 *     session's first audioInput after the old one's last, ~20 ms when no frame is held back);
 *   per mid-call failure (a model stream error as a reply is cut), with and without the cached apology:
 *     the silence the caller hears from the failure to the next agent audio.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { REPLY_TEXTS } from "../../bridge/simulator/replies.ts";
import { BridgePhone } from "../bridge-phone.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "../bridge-stack.ts";
import { loadAudioFixture } from "../fixtures/fixtures.ts";
import { summarise } from "./percentiles.ts";
import { hearingAtSwitch, type ReceivedFrame, soundTimeline } from "./switch-gaps.ts";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "3" },
    seconds: { type: "string", default: "24" },
    "limit-ms": { type: "string", default: "4000" },
    "rollover-ms": { type: "string", default: "2500" },
    "margin-ms": { type: "string", default: "1000" },
    "latency-ms": { type: "string", default: "300/600" },
    "setup-ms": { type: "string", default: "150" },
  },
});
const CALLS = Number(values.calls);
const SECONDS = Number(values.seconds);
const LIMIT_MS = Number(values["limit-ms"]);
const [LATENCY_MEDIAN_MS = 300, LATENCY_P95_MS = 600] = (values["latency-ms"] ?? "").split("/").map(Number);
/** TCP+TLS to the region, charged by the simulator on every new connection (each stream opens one). */
const SETUP_MS = Number(values["setup-ms"]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const UTTERANCES = ["opening-hours", "order-status", "yes-please", "account-number"].map((name) =>
  loadAudioFixture(name, "speech"),
);

type LogLine = Record<string, unknown>;

async function withStack<T>(
  env: Record<string, string>,
  sessionLimitMs: number | undefined,
  run: (stack: BridgeStack, logs: LogLine[]) => Promise<T>,
): Promise<T> {
  const logs: LogLine[] = [];
  const stack = await startBridgeStack({
    logLevel: "info",
    logSink: (line) => logs.push(JSON.parse(line) as LogLine),
    simulator: {
      modelLatency: { medianMs: LATENCY_MEDIAN_MS, p95Ms: LATENCY_P95_MS },
      connectionSetupMs: SETUP_MS,
      ...(sessionLimitMs === undefined ? {} : { sessionLimitMs }),
    },
    env,
  });
  try {
    return await run(stack, logs);
  } finally {
    await stack.close();
  }
}

interface PhoneRun {
  phone: BridgePhone;
  frames: ReceivedFrame[];
}

async function connect(stack: BridgeStack): Promise<PhoneRun> {
  const frames: ReceivedFrame[] = [];
  const phone = await BridgePhone.connect({
    baseUrl: stack.bridge.url,
    secret: TEST_SECRET,
    onMedia: (bytes, receivedMs) => frames.push({ receivedMs, bytes: bytes.length }),
  });
  phone.start();
  return { phone, frames };
}

/** Greeting, then the caller speaks, waits for the answer and pauses, until the time is up. */
async function longCall(stack: BridgeStack): Promise<PhoneRun> {
  const run = await connect(stack);
  const { phone } = run;
  const endAtMs = performance.now() + SECONDS * 1000;
  await phone.waitFor(() => phone.controlsOf("turn").length >= 1, 15_000, "the greeting");
  for (let i = 0; performance.now() < endAtMs; i++) {
    const turns = phone.controlsOf("turn").length;
    await phone.say(UTTERANCES[i % UTTERANCES.length]!.mulaw);
    await phone.waitFor(() => phone.controlsOf("turn").length > turns, 15_000, "an answer");
    await sleep(500 + ((i * 700) % 2500));
  }
  await phone.hangUp();
  return run;
}

function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

async function rollovers(): Promise<void> {
  await withStack(
    {
      SESSION_LIMIT_MS: String(LIMIT_MS),
      SESSION_ROLLOVER_AFTER_MS: values["rollover-ms"] ?? "2500",
      SESSION_FORCE_SWITCH_MARGIN_MS: values["margin-ms"] ?? "1000",
    },
    LIMIT_MS,
    async (stack, logs) => {
      const runs = await Promise.all(Array.from({ length: CALLS }, () => longCall(stack)));
      await sleep(500);
      const records = new Map(stack.simulator.sessions.list().map((record) => [record.promptName, record]));
      console.log(
        `\nsession switches (${CALLS} calls × ${SECONDS} s, limit ${LIMIT_MS} ms, rollover ${values["rollover-ms"]} ms, margin ${values["margin-ms"]} ms)`,
      );
      console.log("reason    age ms  hearing agent  heard gap ms  caller-audio gap at model ms");
      const heardGaps: number[] = [];
      const uplinkGaps: number[] = [];
      for (const { phone, frames } of runs) {
        const timeline = soundTimeline(frames);
        const switches = logs.filter(
          (line) => line.msg === "model session switched" && line.callSid === phone.callSid,
        );
        for (const line of switches) {
          const hearing = hearingAtSwitch(timeline, Number(line.atMs));
          const from = records.get(String(line.fromKey));
          const to = records.get(String(line.toKey));
          const uplinkGapMs =
            (to?.firstAudioInputAtMs ?? Number.NaN) - (from?.lastAudioInputAtMs ?? Number.NaN);
          heardGaps.push(hearing.gapMs);
          if (Number.isFinite(uplinkGapMs)) uplinkGaps.push(uplinkGapMs);
          console.log(
            `${String(line.reason).padEnd(9)} ${String(line.ageMs).padStart(6)}  ${(hearing.playing ? "yes" : "no").padEnd(13)}  ${fixed(hearing.gapMs).padStart(12)}  ${fixed(uplinkGapMs).padStart(10)}`,
          );
        }
      }
      const stats = stack.bridge.sessionStats.snapshot();
      const uplink = summarise(uplinkGaps);
      const timeouts = stack.simulator.sessions.list().filter((record) => record.endReason !== "session_end");
      console.log(
        `switches: ${JSON.stringify(stats.switches)}; heard gap max ${fixed(Math.max(0, ...heardGaps))} ms; ` +
          `caller-audio gap p50 ${fixed(uplink.p50)} / max ${fixed(uplink.max)} ms; ` +
          `replayed ${stats.replayedAudioBytes} B; sessions not ended by the bridge: ${timeouts.length}; ` +
          `failures: ${JSON.stringify(stats.failures)}`,
      );
    },
  );
}

async function recovery(apology: boolean): Promise<number> {
  const asset = (name: string) =>
    fileURLToPath(new URL(`../../bridge/simulator/assets/${name}`, import.meta.url));
  const env: Record<string, string> = apology
    ? { PROMPTS: "apology", PROMPT_APOLOGY_TEXT: REPLY_TEXTS.more, PROMPT_APOLOGY_FILE: asset("more-8k.wav") }
    : {};
  return withStack(env, undefined, async (stack, logs) => {
    stack.simulator.faults.add({ kind: "stream_error", afterTurns: 2 });
    const { phone, frames } = await connect(stack);
    await phone.waitFor(() => phone.controlsOf("turn").length >= 1, 15_000, "the greeting");
    await phone.say(UTTERANCES[0]!.mulaw);
    await phone.waitFor(() => phone.controlsOf("turn").length >= 3, 20_000, "the recovery");
    await phone.hangUp();
    // The failure cuts the reply: Twilio is cleared at once; then the caller hears silence until the next audio.
    const clearedAtMs = performance.timeOrigin + (phone.clears[0] ?? Number.NaN);
    const next = frames.find((frame) => frame.receivedMs > clearedAtMs);
    const failures = logs.filter((line) => line.msg === "model session failed mid-call").length;
    if (failures !== 1) console.error(`expected one failure, got ${failures}`);
    return (next?.receivedMs ?? Number.NaN) - clearedAtMs;
  });
}

async function main(): Promise<void> {
  await rollovers();
  const withApology = await recovery(true);
  const without = await recovery(false);
  console.log("\nmid-call stream error (a reply cut): silence from the failure to the next agent audio");
  console.log(`  cached apology: ${fixed(withApology)} ms; model apologises itself: ${fixed(without)} ms`);
}

await main();
