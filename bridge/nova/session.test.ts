/**
 * NovaSession through the real AWS SDK over HTTP/2 against the simulator, started in-process on an
 * ephemeral port with credentials it verifies. Audio is fed at a real-time pace; the simulator is set to
 * a short turn-end pause and a tiny model latency to keep the tests short.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AppError } from "../../shared/errors.ts";
import { Logger } from "../../shared/log.ts";
import type { NovaOutputEvent } from "../../shared/nova-events.ts";
import { simulatorControl } from "../simulator/control-client.ts";
import { type NovaSimulator, type SimulatorOptions, startNovaSimulator } from "../simulator/server.ts";
import { readWav } from "../simulator/wav.ts";
import { createNovaClient } from "./client.ts";
import { NovaSession, type NovaSessionConfig } from "./session.ts";

const CREDENTIALS = { accessKeyId: "AKIDSIMULATOR", secretAccessKey: "simulator-secret" };
const REGION = "us-east-1";
const RATE_HZ = 16000;
const FRAME_MS = 20;
const FRAME_BYTES = (RATE_HZ / 1000) * FRAME_MS * 2;
const quiet = new Logger({}, { level: "error" });

const CONFIG: NovaSessionConfig = {
  modelId: "amazon.nova-2-sonic-v1:0",
  voiceId: "matthew",
  systemPrompt: "You are a helpful phone agent.",
  inputSampleRateHz: RATE_HZ,
  outputSampleRateHz: 8000,
  endpointingSensitivity: "HIGH",
  maxTokens: 1024,
  temperature: 0.7,
  topP: 0.9,
};

const SIM_OPTIONS: SimulatorOptions = {
  credentials: CREDENTIALS,
  region: REGION,
  modelLatency: { medianMs: 5, p95Ms: 15 },
  seed: 7,
  pauseMsBySensitivity: { HIGH: 300, MEDIUM: 300, LOW: 300 },
  logger: quiet,
};

/** One second of real speech (an espeak-ng sentence the simulator ships), at 16 kHz. */
const SPEECH = readWav(
  readFileSync(new URL("../simulator/assets/hours-16k.wav", import.meta.url)),
  "speech",
).pcm.subarray(0, RATE_HZ * 2);
const SILENCE = new Uint8Array(FRAME_BYTES);

let simulator: NovaSimulator;
beforeAll(async () => {
  simulator = await startNovaSimulator(SIM_OPTIONS);
});
afterAll(async () => {
  await simulator.close();
});

function openSession(
  config: Partial<NovaSessionConfig> = {},
  options: { secret?: string; url?: string; signal?: AbortSignal } = {},
) {
  const client = createNovaClient({
    region: REGION,
    endpoint: options.url ?? simulator.url,
    credentials: { ...CREDENTIALS, secretAccessKey: options.secret ?? CREDENTIALS.secretAccessKey },
    requestTimeoutMs: 10_000,
    sessionTimeoutMs: 10_000,
  });
  return NovaSession.open(
    { ...CONFIG, ...config },
    { client, logger: quiet, ...(options.signal ? { signal: options.signal } : {}) },
  );
}

/** Consumes a session's events; tests wait for the ones they expect. */
function watch(session: NovaSession) {
  const events: NovaOutputEvent[] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const event of session.events()) {
        events.push(event);
        wake?.();
      }
    } catch (error) {
      failure = error;
    } finally {
      wake?.();
    }
  })();
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  return {
    events,
    /** The first event from `from` on that matches; fails if the stream ends first or after 8 s. */
    async next(match: (event: NovaOutputEvent) => boolean, from = 0): Promise<NovaOutputEvent> {
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline) {
        const found = events.slice(from).find(match);
        if (found) return found;
        if (finished) throw new Error(`stream ended without the event (${String(failure)})`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      throw new Error("no such event within 8 s");
    },
    /** The error the event stream ended with (waits for the end). */
    async failure(): Promise<unknown> {
      await done;
      return failure;
    },
  };
}

/** Feeds audio in real time, 20 ms frames: `script` gives the frame to send at each step, then silence. */
function feed(session: NovaSession, script: (frameIndex: number) => Uint8Array | undefined) {
  const startedAt = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - startedAt) / FRAME_MS);
    for (; sent <= due; sent++) session.sendAudio(script(sent) ?? SILENCE);
  }, FRAME_MS);
  return {
    stop: () => clearInterval(timer),
    /** The index of the frame being sent now. */
    frameNow: () => Math.floor((performance.now() - startedAt) / FRAME_MS),
  };
}

const speechFrames = (startFrame: number) => (index: number) => {
  const at = (index - startFrame) * FRAME_BYTES;
  return at >= 0 && at < SPEECH.byteLength ? SPEECH.subarray(at, at + FRAME_BYTES) : undefined;
};

const isKind =
  <K extends NovaOutputEvent["kind"]>(
    kind: K,
    test: (event: Extract<NovaOutputEvent, { kind: K }>) => boolean = () => true,
  ) =>
  (event: NovaOutputEvent): boolean =>
    event.kind === kind && test(event as Extract<NovaOutputEvent, { kind: K }>);

const finalAssistantText = isKind(
  "contentStart",
  (e) => e.body.role === "ASSISTANT" && e.generationStage === "FINAL",
);

function summary(events: NovaOutputEvent[]): string[] {
  const out: string[] = [];
  for (const event of events) {
    const tag =
      event.kind === "contentStart"
        ? `contentStart ${event.body.type} ${event.body.role} ${event.generationStage ?? ""}`.trim()
        : event.kind === "contentEnd"
          ? `contentEnd ${event.body.type} ${event.body.stopReason}`
          : event.kind;
    if (out.at(-1) !== tag) out.push(tag);
  }
  return out;
}

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
    bargeAt =
      Math.ceil((performance.now() - (session.timestamps.openedAtMs - performance.timeOrigin)) / FRAME_MS) +
      10;
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
