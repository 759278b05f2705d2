/**
 * The simulator as a model: HTTP-level refusals, history, the output rate, known utterances and the
 * control routes, driven through NovaSession and the real SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../shared/errors.ts";
import {
  feed,
  finalAssistantText,
  isKind,
  openSession,
  SIM_OPTIONS,
  speechAsset,
  speechFrom,
  watch,
} from "../nova/session-harness.ts";
import { simulatorControl } from "./control-client.ts";
import { REPLY_TEXTS, ReplyLibrary } from "./replies.ts";
import { type NovaSimulator, startNovaSimulator } from "./server.ts";
import { UtteranceCatalogue } from "./transcripts.ts";

let simulator: NovaSimulator;
beforeAll(async () => {
  const catalogue = new UtteranceCatalogue();
  const known = ReplyLibrary.load().get("tool_done", 8000);
  catalogue.learn("yes please, go ahead", known.pcm, known.sampleRateHz);
  simulator = await startNovaSimulator({ ...SIM_OPTIONS, catalogue });
});
afterAll(async () => {
  await simulator.close();
});

describe("the Nova Sonic simulator", () => {
  it("refuses an unknown model id at the HTTP level, as a ValidationException", async () => {
    const session = openSession(simulator.url, { modelId: "amazon.nova-9-sonic-v1:0" });
    const failure = await watch(session).failure();
    expect(failure).toBeInstanceOf(AppError);
    expect(failure instanceof AppError && failure.code).toBe("model_validation");
    expect(failure instanceof AppError && failure.message).toMatch(/model identifier is invalid/);
  });

  it("remembers history: a caller already greeted is welcomed back, at the output rate asked for", async () => {
    const session = openSession(simulator.url, { outputSampleRateHz: 24000 });
    const watcher = watch(session);
    session.addHistory([
      { role: "USER", text: "Hi, I am calling about my order." },
      { role: "ASSISTANT", text: "Hello! Let me look into it." },
    ]);
    const audio = feed(session, () => undefined);
    session.sendText("The caller has just connected. Greet them.");
    const final = await watcher.next(finalAssistantText);
    const said = await watcher.next(isKind("textOutput"), watcher.events.indexOf(final));
    audio.stop();
    await session.close();
    expect(said.kind === "textOutput" && said.body.content).toBe(REPLY_TEXTS.greeting_again);
    const start = watcher.events.find(isKind("contentStart", (e) => e.body.type === "AUDIO"));
    expect(start?.kind === "contentStart" && start.body.audioOutputConfiguration?.sampleRateHertz).toBe(
      24000,
    );
    const bytes = watcher.events.reduce(
      (sum, e) => sum + (e.kind === "audioOutput" ? e.pcm.byteLength : 0),
      0,
    );
    const expected = ReplyLibrary.load().get("greeting_again", 24000).pcm.byteLength;
    expect(bytes).toBe(expected);
    const record = simulator.sessions.list().find((r) => r.promptName === session.promptName);
    expect(record?.history.map((message) => message.role)).toEqual(["USER", "ASSISTANT"]);
  });

  it("reports a known utterance by its text, from its fingerprint", async () => {
    const session = openSession(simulator.url);
    const watcher = watch(session);
    const audio = feed(session, speechFrom(speechAsset("tool_done"), 3));
    const transcript = await watcher.next(isKind("textOutput", (e) => e.body.role === "USER"));
    audio.stop();
    await session.close();
    expect(transcript.kind === "textOutput" && transcript.body.content).toBe("yes please, go ahead");
  });

  it("interrupts a reply that is fully generated but still playing, by its play-out clock", async () => {
    const fast = await startNovaSimulator({ ...SIM_OPTIONS, generationSpeed: 1000 });
    try {
      const session = openSession(fast.url);
      const watcher = watch(session);
      let bargeAt = Number.POSITIVE_INFINITY;
      const speech = speechAsset("ack");
      const audio = feed(session, (index) =>
        index >= bargeAt ? speechFrom(speech, bargeAt)(index) : undefined,
      );
      session.sendText("The caller has just connected. Greet them.");
      const generated = await watcher.next(isKind("contentEnd", (e) => e.body.type === "AUDIO"));
      bargeAt = audio.frameNow() + 5;
      await watcher.next(isKind("contentEnd", (e) => e.body.stopReason === "INTERRUPTED"));
      audio.stop();
      await session.close();
      expect(generated.kind === "contentEnd" && generated.body.stopReason).toBe("END_TURN");
      const after = watcher.events.slice(watcher.events.indexOf(generated));
      const interrupted = after.filter(isKind("textOutput", (e) => e.interrupted));
      expect(interrupted).toHaveLength(1);
      const record = fast.sessions.list()[0];
      expect(record?.turns[0]?.outcome).toBe("interrupted");
      expect(record?.turns[0]?.interruptedAtMs).toBeGreaterThan(record?.turns[0]?.firstAudioOutAtMs ?? 0);
    } finally {
      await fast.close();
    }
  });

  it("serves its records and takes faults over the control routes", async () => {
    const control = simulatorControl(simulator.url);
    const session = openSession(simulator.url);
    const watcher = watch(session);
    const audio = feed(session, () => undefined);
    session.sendText("The caller pressed 5.");
    await watcher.next(finalAssistantText);
    audio.stop();
    await session.close();
    const record = (await control.sessions()).find((r) => r.promptName === session.promptName);
    const turn = record?.turns[0];
    expect(turn).toMatchObject({ trigger: "text", replyId: "digits", outcome: "completed" });
    expect(turn?.firstAudioOutAtMs).toBeGreaterThan(turn?.endpointAtMs ?? Number.POSITIVE_INFINITY);
    expect(record?.sent.audioOutput).toBeGreaterThan(10);
    expect(record?.audioInputFrames).toBeGreaterThan(0);
    await control.addFault({ kind: "reset", afterTurns: 3, sessions: 2 });
    expect(simulator.faults.pending()).toEqual([{ kind: "reset", afterTurns: 3, sessions: 2 }]);
    await control.clearFaults();
    expect(simulator.faults.pending()).toEqual([]);
  });
});
