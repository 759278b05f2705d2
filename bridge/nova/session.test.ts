/**
 * NovaSession through the real AWS SDK over HTTP/2 against the simulator, started in-process on an
 * ephemeral port with credentials it verifies. Audio is fed at a real-time pace; the simulator is set to
 * a short turn-end pause and a tiny model latency to keep the tests short.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AppError } from "../../shared/errors.ts";
import { simulatorControl } from "../simulator/control-client.ts";
import { type NovaSimulator, startNovaSimulator } from "../simulator/server.ts";
import { createNovaClient } from "./client.ts";
import { NovaSession, type NovaSessionConfig } from "./session.ts";
import {
  CONFIG,
  CREDENTIALS,
  feed,
  finalAssistantText,
  isKind,
  openSession as openAt,
  quiet,
  RATE_HZ,
  REGION,
  SIM_OPTIONS,
  speechAsset,
  speechFrom,
  summary,
  watch,
} from "./session-harness.ts";

/** One second of real speech (an espeak-ng sentence the simulator ships). */
const SPEECH = speechAsset("hours").subarray(0, RATE_HZ * 2);
const speechFrames = (startFrame: number) => speechFrom(SPEECH, startFrame);

let simulator: NovaSimulator;
beforeAll(async () => {
  simulator = await startNovaSimulator(SIM_OPTIONS);
});
afterAll(async () => {
  await simulator.close();
});

const openSession = (
  config: Partial<NovaSessionConfig> = {},
  options: { secret?: string; url?: string; signal?: AbortSignal } = {},
) => openAt(options.url ?? simulator.url, config, options);

async function errorCodeOf(session: NovaSession, watcher: ReturnType<typeof watch>): Promise<string> {
  const failure = await watcher.failure();
  const end = await session.ended;
  expect(end.kind).toBe("failed");
  expect(failure).toBeInstanceOf(AppError);
  return failure instanceof AppError ? failure.code : "none";
}

describe("NovaSession against the simulator", () => {
  it("asks for the greeting as text, gets the whole reply sequence, and closes in protocol order", async () => {
    const session = openSession();
    const watcher = watch(session);
    const audio = feed(session, () => undefined);
    session.sendText("The caller has just connected. Greet them.");
    const final = await watcher.next(finalAssistantText);
    await watcher.next(isKind("usageEvent"), watcher.events.indexOf(final));
    audio.stop();
    const end = await session.close();
    expect(end.kind).toBe("completed");
    expect(summary(watcher.events)).toEqual([
      "completionStart",
      "contentStart TEXT USER FINAL",
      "textOutput",
      "contentEnd TEXT END_TURN",
      "contentStart TEXT ASSISTANT SPECULATIVE",
      "textOutput",
      "contentEnd TEXT PARTIAL_TURN",
      "contentStart AUDIO ASSISTANT",
      "audioOutput",
      "contentEnd AUDIO END_TURN",
      "contentStart TEXT ASSISTANT FINAL",
      "textOutput",
      "contentEnd TEXT END_TURN",
      "usageEvent",
      "completionEnd",
    ]);
    const texts = watcher.events.flatMap((event) =>
      event.kind === "textOutput" ? [event.body.content] : [],
    );
    expect(texts).toEqual([
      "The caller has just connected. Greet them.",
      "Hello, thanks for calling. How can I help you today?",
      "Hello, thanks for calling. How can I help you today?",
    ]);
    const audioBytes = watcher.events.reduce(
      (sum, e) => sum + (e.kind === "audioOutput" ? e.pcm.byteLength : 0),
      0,
    );
    expect(audioBytes / 2 / 8000).toBeGreaterThan(3); // the greeting is ~3.7 s of speech at 8 kHz
    const record = simulator.sessions.list().find((r) => r.promptName === session.promptName);
    expect(record?.received.slice(-3)).toEqual(["contentEnd", "promptEnd", "sessionEnd"]);
    expect(record?.received.slice(0, 5)).toEqual([
      "sessionStart",
      "promptStart",
      "contentStart",
      "textInput",
      "contentEnd",
    ]);
    expect(record?.endReason).toBe("session_end");
    expect(session.timestamps.firstOutputAtMs).toBeGreaterThan(session.timestamps.openedAtMs);
  });

  it("hears a spoken turn in real time, detects its end and answers it", async () => {
    const session = openSession();
    const watcher = watch(session);
    const audio = feed(session, speechFrames(5));
    const transcript = await watcher.next(isKind("textOutput", (e) => e.body.role === "USER"));
    await watcher.next(finalAssistantText);
    audio.stop();
    await session.close();
    const said = transcript.kind === "textOutput" ? transcript.body.content : "";
    const seconds = Number(/^\[caller speech, (\d+\.\d) s\]$/.exec(said)?.[1]);
    expect(seconds).toBeGreaterThan(0.6);
    expect(seconds).toBeLessThanOrEqual(1.0);
    const turn = simulator.sessions.list().find((r) => r.promptName === session.promptName)?.turns[0];
    expect(turn?.trigger).toBe("audio");
    expect(turn?.outcome).toBe("completed");
    expect(turn?.lastSpeechFrameAtMs).toBeLessThan(turn?.endpointAtMs ?? 0);
    expect(turn?.endpointAtMs).toBeLessThan(turn?.firstAudioOutAtMs ?? 0);
  });

  it("stops the reply when the caller talks over it: interrupted signal and stopReason INTERRUPTED", async () => {
    const session = openSession();
    const watcher = watch(session);
    let bargeAt = Number.POSITIVE_INFINITY;
    const audio = feed(session, (index) => (index >= bargeAt ? speechFrames(bargeAt)(index) : undefined));
    session.sendText("The caller has just connected. Greet them.");
    await watcher.next(isKind("audioOutput"));
    bargeAt = audio.frameNow() + 10; // the caller starts talking 200 ms into the reply
    const signal = await watcher.next(isKind("textOutput", (e) => e.interrupted));
    const stop = await watcher.next(isKind("contentEnd", (e) => e.body.stopReason === "INTERRUPTED"));
    audio.stop();
    await session.close();
    expect(signal.kind === "textOutput" && signal.body.role).toBe("ASSISTANT");
    // Generated at 4x real time, the 3.7 s greeting is still being generated: its audio block is cut too.
    expect(stop.kind === "contentEnd" && stop.body.type).toBe("AUDIO");
    const tags = summary(watcher.events);
    expect(tags.slice(tags.indexOf("contentEnd AUDIO INTERRUPTED"))).toEqual([
      "contentEnd AUDIO INTERRUPTED",
      "contentStart TEXT ASSISTANT FINAL",
      "textOutput",
      "contentEnd TEXT INTERRUPTED",
      "completionEnd",
    ]);
    const turn = simulator.sessions.list().find((r) => r.promptName === session.promptName)?.turns[0];
    expect(turn?.outcome).toBe("interrupted");
  });

  it("round-trips a tool use and then speaks", async () => {
    const session = openSession({
      tools: [
        { name: "transfer", description: "Transfers the call to a person.", inputSchema: { type: "object" } },
      ],
    });
    const watcher = watch(session);
    const audio = feed(session, () => undefined);
    session.sendText("Please transfer me to a person.");
    const use = await watcher.next(isKind("toolUse"));
    await watcher.next(isKind("contentEnd", (e) => e.body.stopReason === "TOOL_USE"));
    if (use.kind !== "toolUse") throw new Error("expected a tool use");
    expect(use.body.toolName).toBe("transfer");
    expect(JSON.parse(use.body.content)).toEqual({ reason: "the caller asked for a person" });
    const from = watcher.events.length;
    session.sendToolResult(use.body.toolUseId, { ok: true });
    await watcher.next(isKind("audioOutput"), from);
    const final = await watcher.next(finalAssistantText, from);
    const text = await watcher.next(isKind("textOutput"), watcher.events.indexOf(final));
    audio.stop();
    await session.close();
    expect(text.kind === "textOutput" && text.body.content).toBe("All right, that is done.");
  });

  it("surfaces the service's ValidationException for events out of order as model_validation", async () => {
    const session = openSession();
    const watcher = watch(session);
    session.addHistory([{ role: "ASSISTANT", text: "Hello again." }]);
    expect(await errorCodeOf(session, watcher)).toBe("model_validation");

    const second = openSession();
    const secondWatcher = watch(second);
    second.sendToolResult("no-such-tool-use", { ok: true });
    expect(await errorCodeOf(second, secondWatcher)).toBe("model_validation");
  });

  it("is refused with a bad signature", async () => {
    const session = openSession({}, { secret: "not-the-secret" });
    const watcher = watch(session);
    expect(await errorCodeOf(session, watcher)).toBe("bad_config");
  });

  it("is accepted (HTTP 200) before the model says anything, and not when refused at the HTTP level", async () => {
    const session = openSession();
    expect(await session.accepted).toBe(true);
    expect(session.timestamps.acceptedAtMs).toBeGreaterThanOrEqual(session.timestamps.openedAtMs);
    expect(session.timestamps.firstOutputAtMs).toBeUndefined();
    await session.close();

    simulator.faults.add({ kind: "throttle", where: "http" });
    const refused = openSession();
    expect(await refused.accepted).toBe(false);
    expect(refused.timestamps.acceptedAtMs).toBeUndefined();
  });

  it("reports throttling at start, at the HTTP level and in the stream", async () => {
    simulator.faults.add({ kind: "throttle", where: "http" });
    const session = openSession();
    expect(await errorCodeOf(session, watch(session))).toBe("model_throttled");

    await simulatorControl(simulator.url).addFault({ kind: "throttle", where: "stream" });
    const second = openSession();
    expect(await errorCodeOf(second, watch(second))).toBe("model_throttled");
  });

  it("reports a model stream error mid-call", async () => {
    simulator.faults.add({ kind: "stream_error", afterTurns: 1 });
    const session = openSession();
    const watcher = watch(session);
    const audio = feed(session, () => undefined);
    session.sendText("The caller has just connected. Greet them.");
    const code = await errorCodeOf(session, watcher);
    audio.stop();
    expect(code).toBe("model_stream_error");
    expect(watcher.events.some(finalAssistantText)).toBe(true);
  });

  it("treats a silent stream reset (no completionEnd) as model_stream_ended", async () => {
    simulator.faults.add({ kind: "reset", afterMs: 150 });
    const session = openSession();
    const watcher = watch(session);
    const audio = feed(session, () => undefined);
    const code = await errorCodeOf(session, watcher);
    audio.stop();
    expect(code).toBe("model_stream_ended");
  });

  it("ends at the session limit with model_timeout", async () => {
    const short = await startNovaSimulator({ ...SIM_OPTIONS, sessionLimitMs: 400 });
    try {
      const session = openSession({}, { url: short.url });
      const watcher = watch(session);
      const audio = feed(session, () => undefined);
      const code = await errorCodeOf(session, watcher);
      audio.stop();
      expect(code).toBe("model_timeout");
    } finally {
      await short.close();
    }
  });

  it("is cancelled by its AbortSignal", async () => {
    const controller = new AbortController();
    const session = openSession({}, { signal: controller.signal });
    const watcher = watch(session);
    const audio = feed(session, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    expect(await watcher.failure()).toBeUndefined();
    audio.stop();
    expect((await session.ended).kind).toBe("aborted");
  });

  it("finds the endpoint through AWS_ENDPOINT_URL_BEDROCK_RUNTIME and the credential chain", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", simulator.url);
    vi.stubEnv("AWS_REGION", REGION);
    vi.stubEnv("AWS_ACCESS_KEY_ID", CREDENTIALS.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", CREDENTIALS.secretAccessKey);
    vi.stubEnv("AWS_BEARER_TOKEN_BEDROCK", undefined);
    try {
      const session = NovaSession.open(CONFIG, { client: createNovaClient(), logger: quiet });
      const watcher = watch(session);
      const audio = feed(session, () => undefined);
      session.sendText("Hello, the caller just connected.");
      await watcher.next(isKind("audioOutput"));
      audio.stop();
      expect((await session.close()).kind).toBe("completed");
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
