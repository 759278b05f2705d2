/**
 * Model faults injected in the simulator, seen through the bridge and the real AWS SDK. Each is an error of
 * that call only, reported to the edge with its code (an `error` control), logged and counted — and the
 * call goes on: a throttled start is retried on a fresh stream, a session that fails mid-call is replaced
 * by a fresh one that gets the conversation so far. Only repeated failure ends the call, and then never as
 * a silent dead line: a `hangup` control and the CALL_ENDED close.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_GREETING_INSTRUCTION } from "../bridge/config.ts";
import type { FaultRequest } from "../bridge/simulator/faults.ts";
import { REPLY_TEXTS, ReplyLibrary } from "../bridge/simulator/replies.ts";
import { BridgeCloseCode } from "../shared/bridge-protocol.ts";
import { BridgePhone } from "./bridge-phone.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";
import { loadAudioFixture } from "./fixtures/fixtures.ts";

const GREETING_MS = ReplyLibrary.load().get("greeting", 8000).durationMs;

const logs: Array<Record<string, unknown>> = [];
let stack: BridgeStack;
beforeAll(async () => {
  stack = await startBridgeStack({
    logLevel: "info",
    logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    env: { MODEL_RETRY_BASE_MS: "50", MODEL_RETRY_MAX_MS: "200", MODEL_START_ATTEMPTS: "4" },
  });
});
afterAll(async () => stack?.close());

function failureLogs(callSid: string): Array<Record<string, unknown>> {
  return logs.filter(
    (line) =>
      line.callSid === callSid &&
      (line.msg === "model session failed to start" || line.msg === "model session failed mid-call"),
  );
}

/** The simulator's records of the sessions opened since `before` sessions were on record. */
function sessionsSince(before: number) {
  return stack.simulator.sessions.list().slice(before);
}

async function callWith(...faults: FaultRequest[]): Promise<{ phone: BridgePhone; before: number }> {
  const before = stack.simulator.sessions.list().length;
  for (const fault of faults) stack.simulator.faults.add(fault);
  const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
  phone.start();
  return { phone, before };
}

describe("throttling at session start", () => {
  for (const where of ["http", "stream"] as const) {
    it(`retries on a fresh stream until the model answers (${where})`, async () => {
      const failuresBefore = stack.bridge.sessionStats.snapshot().failures.model_throttled ?? 0;
      const { phone, before } = await callWith({ kind: "throttle", where, sessions: 2 });
      await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
      expect(phone.controlsOf("turn")[0]).toMatchObject({
        assistantText: REPLY_TEXTS.greeting,
        heardText: REPLY_TEXTS.greeting,
      });
      expect(phone.controlsOf("error").map((error) => error.code)).toEqual([
        "model_throttled",
        "model_throttled",
      ]);
      expect(phone.controlsOf("hangup")).toEqual([]);
      expect(failureLogs(phone.callSid).map((line) => [line.code, line.attempt])).toEqual([
        ["model_throttled", 1],
        ["model_throttled", 2],
      ]);
      expect(stack.bridge.sessionStats.snapshot().failures.model_throttled).toBe(failuresBefore + 2);
      // HTTP refusals leave no session behind; in-stream ones are sessions ended by the exception.
      const sessions = sessionsSince(before);
      expect(sessions.map((record) => record.endReason ?? "live")).toEqual(
        where === "http" ? ["live"] : ["throttlingException", "throttlingException", "live"],
      );
      expect(sessions.at(-1)?.turns[0]?.replyId).toBe("greeting");
      expect(await phone.hangUp()).toBe(1000);
    }, 20_000);
  }

  it("ends the call once the attempts are spent", async () => {
    const { phone } = await callWith({ kind: "throttle", where: "http", sessions: 4 });
    expect(await phone.closed).toBe(BridgeCloseCode.CALL_ENDED);
    expect(phone.controlsOf("error").map((error) => error.code)).toEqual(Array(4).fill("model_throttled"));
    expect(phone.controlsOf("hangup")).toEqual([{ bridge: "hangup", reason: "session_failed" }]);
  }, 20_000);
});

describe("a session failing mid-call", () => {
  it("after a stream error, cuts the reply and carries on in a fresh session with the history", async () => {
    // The session fails as soon as it has generated its second reply (the caller hears it being cut).
    const { phone, before } = await callWith({ kind: "stream_error", afterTurns: 2 });
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    const hours = loadAudioFixture("opening-hours", "speech");
    await phone.say(hours.mulaw);
    await phone.waitFor(() => phone.controlsOf("error").length === 1, 15_000, "the failure");
    expect(phone.controlsOf("error")[0]?.code).toBe("model_stream_error");
    expect(phone.clears.length).toBe(1);
    // The fresh session speaks up (no dead air), then answers the caller's next words.
    await phone.waitFor(() => phone.controlsOf("turn").length >= 3, 15_000, "the carry-on reply");
    const status = loadAudioFixture("order-status", "speech");
    await phone.say(status.mulaw);
    await phone.waitFor(
      () => phone.controlsOf("turn").some((turn) => turn.userText === status.text && turn.heardMs > 0),
      15_000,
      "the answer in the fresh session",
    );
    expect(phone.controlsOf("hangup")).toEqual([]);

    const [failed, fresh] = sessionsSince(before);
    expect(failed?.endReason).toBe("modelStreamErrorException");
    expect(fresh?.history).toEqual([
      { role: "USER", text: DEFAULT_GREETING_INSTRUCTION },
      { role: "ASSISTANT", text: REPLY_TEXTS.greeting },
      { role: "USER", text: hours.text },
      ...(phone.controlsOf("turn")[1]!.heardText
        ? [{ role: "ASSISTANT", text: phone.controlsOf("turn")[1]!.heardText }]
        : []),
    ]);
    expect(fresh?.turns.map((turn) => turn.trigger)).toEqual(["text", "audio"]);
    expect(fresh?.turns[1]?.transcript).toBe(status.text);
    expect(failureLogs(phone.callSid).map((line) => line.code)).toEqual(["model_stream_error"]);
    expect(await phone.hangUp()).toBe(1000);
  }, 40_000);

  it("after a silent reset on a quiet line, resumes without a word and answers the caller", async () => {
    // The stream is reset (no completionEnd) after the greeting has played, while nobody speaks.
    const { phone, before } = await callWith({ kind: "reset", afterMs: Math.round(GREETING_MS + 1500) });
    await phone.waitFor(() => phone.controlsOf("error").length === 1, 15_000, "the failure");
    expect(phone.controlsOf("error")[0]?.code).toBe("model_stream_ended");
    expect(phone.controlsOf("turn")).toHaveLength(1);
    const hours = loadAudioFixture("opening-hours", "speech");
    await phone.say(hours.mulaw);
    await phone.waitFor(() => phone.controlsOf("turn").length === 2, 15_000, "the answer");
    expect(phone.controlsOf("turn")[1]).toMatchObject({
      userText: hours.text,
      assistantText: REPLY_TEXTS.ack,
    });
    const [failed, fresh] = sessionsSince(before);
    expect(failed?.endReason).toBe("fault_reset");
    expect(fresh?.history.map((entry) => entry.role)).toEqual(["USER", "ASSISTANT"]);
    expect(fresh?.history[1]?.text).toBe(REPLY_TEXTS.greeting);
    // Nothing was owed when it failed: the fresh session got no text of ours, only the caller.
    expect(fresh?.turns.map((turn) => turn.trigger)).toEqual(["audio"]);
    expect(await phone.hangUp()).toBe(1000);
  }, 30_000);

  it("ends the call after repeated failures: hangup control and CALL_ENDED, never a dead line", async () => {
    const endedBefore = stack.bridge.sessionStats.snapshot().callsEndedByModelFailure;
    const { phone, before } = await callWith({ kind: "stream_error", afterMs: 300, sessions: 3 });
    expect(await phone.closed).toBe(BridgeCloseCode.CALL_ENDED);
    expect(phone.controlsOf("error").map((error) => error.code)).toEqual(Array(3).fill("model_stream_error"));
    expect(phone.controlsOf("hangup")).toEqual([{ bridge: "hangup", reason: "session_failed" }]);
    expect(sessionsSince(before).map((record) => record.endReason)).toEqual(
      Array(3).fill("modelStreamErrorException"),
    );
    expect(stack.bridge.sessionStats.snapshot().callsEndedByModelFailure).toBe(endedBefore + 1);
  }, 20_000);
});

describe("after the faults", () => {
  it("leaves the bridge serving the next call, with the failures counted in /metrics", async () => {
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    expect(phone.controlsOf("error")).toEqual([]);
    await phone.hangUp();
    await phone.waitFor(() => stack.bridge.server.health().activeCalls === 0, 2000, "the call to end");
    const metrics = (await (await fetch(`${stack.bridge.url}/metrics`)).json()) as {
      modelSessions: { failures: Record<string, number>; recoveries: number };
      eventLoop: { lateMs: { checks: number; max: number | null }; stalls: { count: number } };
    };
    // The event loop's own figures come along (checked every 10 ms while the bridge runs).
    expect(metrics.eventLoop.lateMs.checks).toBeGreaterThan(10);
    expect(metrics.eventLoop.lateMs.max).toBeGreaterThanOrEqual(0);
    expect(metrics.modelSessions.failures).toEqual({
      model_throttled: 8,
      model_stream_error: 4,
      model_stream_ended: 1,
    });
    expect(metrics.modelSessions.recoveries).toBe(4);
  }, 20_000);
});

describe("with cached hold, apology and goodbye prompts", () => {
  const asset = (name: string) =>
    fileURLToPath(new URL(`../bridge/simulator/assets/${name}`, import.meta.url));
  const APOLOGY = REPLY_TEXTS.more;
  const GOODBYE = REPLY_TEXTS.tool_done;
  const HOLD = REPLY_TEXTS.digits;
  let cached: BridgeStack;
  beforeAll(async () => {
    cached = await startBridgeStack({
      env: {
        PROMPTS: "apology,goodbye,hold",
        PROMPT_HOLD_TEXT: HOLD,
        PROMPT_HOLD_FILE: asset("digits-8k.wav"),
        MODEL_RETRY_BASE_MS: "800",
        MODEL_RETRY_MAX_MS: "1600",
        PROMPT_APOLOGY_TEXT: APOLOGY,
        PROMPT_APOLOGY_FILE: asset("more-8k.wav"),
        PROMPT_GOODBYE_TEXT: GOODBYE,
        PROMPT_GOODBYE_FILE: asset("tool_done-8k.wav"),
      },
    });
  });
  afterAll(async () => cached?.close());

  it("plays the hold prompt while a throttled start is retried, until the model greets", async () => {
    cached.simulator.faults.add({ kind: "throttle", where: "http", sessions: 2 });
    const phone = await BridgePhone.connect({ baseUrl: cached.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 2, 15_000, "the hold and the greeting");
    const [hold, greeting] = phone.controlsOf("turn");
    expect(hold).toMatchObject({ turnIndex: 0, assistantText: HOLD });
    expect(hold?.heardMs).toBeGreaterThan(0);
    // The hold prompt reached the model as history: the simulator greets as one who has spoken already.
    expect(greeting).toMatchObject({ turnIndex: 1, assistantText: REPLY_TEXTS.greeting_again });
    expect(cached.simulator.sessions.list().at(-1)?.history).toEqual([
      { role: "USER", text: DEFAULT_GREETING_INSTRUCTION },
      { role: "ASSISTANT", text: HOLD },
    ]);
    expect(phone.controlsOf("error").map((error) => error.code)).toEqual([
      "model_throttled",
      "model_throttled",
    ]);
    expect(await phone.hangUp()).toBe(1000);
  }, 30_000);

  it("plays the apology at once when a reply is cut, then the fresh session carries on", async () => {
    const before = cached.simulator.sessions.list().length;
    cached.simulator.faults.add({ kind: "stream_error", afterTurns: 2 });
    const phone = await BridgePhone.connect({ baseUrl: cached.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    await phone.say(loadAudioFixture("opening-hours", "speech").mulaw);
    await phone.waitFor(() => phone.controlsOf("turn").length >= 4, 20_000, "the apology and the carry-on");
    const [, cut, apology, carryOn] = phone.controlsOf("turn");
    expect(cut?.interrupted).toBe(true);
    expect(apology).toMatchObject({ assistantText: APOLOGY, heardText: APOLOGY, interrupted: false });
    expect(carryOn).toMatchObject({ assistantText: REPLY_TEXTS.ack, heardText: REPLY_TEXTS.ack });
    const fresh = cached.simulator.sessions.list()[before + 1];
    expect(fresh?.history.at(-1)).toEqual({ role: "ASSISTANT", text: expect.stringContaining(APOLOGY) });
    expect(fresh?.turns[0]?.transcript).toContain("bear with you");
    expect(await phone.hangUp()).toBe(1000);
  }, 40_000);

  it("says the cached goodbye before ending a call the model keeps failing", async () => {
    cached.simulator.faults.add({ kind: "stream_error", afterMs: 300, sessions: 3 });
    const phone = await BridgePhone.connect({ baseUrl: cached.bridge.url, secret: TEST_SECRET });
    phone.start();
    expect(await phone.closed).toBe(BridgeCloseCode.CALL_ENDED);
    expect(phone.controlsOf("hangup")).toEqual([{ bridge: "hangup", reason: "session_failed" }]);
    const goodbye = phone.controlsOf("turn").at(-1);
    expect(goodbye).toMatchObject({ assistantText: GOODBYE, heardText: GOODBYE, interrupted: false });
    expect(goodbye?.heardMs).toBe(goodbye?.replyMs);
  }, 30_000);
});

describe("a history the service refuses", () => {
  let strict: BridgeStack;
  beforeAll(async () => {
    strict = await startBridgeStack({
      simulator: { historyLimits: { maxMessages: 1, maxMessageBytes: 1024 } },
      env: { MODEL_RETRY_BASE_MS: "50", MODEL_RETRY_MAX_MS: "200" },
    });
  });
  afterAll(async () => strict?.close());

  it("is retried shorter, and the call goes on", async () => {
    strict.simulator.faults.add({ kind: "stream_error", afterMs: Math.round(GREETING_MS + 1500) });
    const phone = await BridgePhone.connect({ baseUrl: strict.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("error").length === 2, 15_000, "the failure and the refusal");
    expect(phone.controlsOf("error").map((error) => error.code)).toEqual([
      "model_stream_error",
      "model_validation",
    ]);
    const hours = loadAudioFixture("opening-hours", "speech");
    await phone.say(hours.mulaw);
    await phone.waitFor(() => phone.controlsOf("turn").length === 2, 15_000, "the answer");
    expect(phone.controlsOf("turn")[1]?.userText).toBe(hours.text);
    const [, refused, accepted] = strict.simulator.sessions.list();
    expect(refused?.endReason).toBe("validationException");
    expect(refused?.history).toEqual([{ role: "USER", text: DEFAULT_GREETING_INSTRUCTION }]);
    expect(accepted?.history.length).toBeLessThanOrEqual(1);
    expect(accepted?.turns[0]?.transcript).toBe(hours.text);
    expect(phone.controlsOf("hangup")).toEqual([]);
    expect(await phone.hangUp()).toBe(1000);
  }, 30_000);
});
