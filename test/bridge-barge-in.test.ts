/**
 * Barge-in through the bridge: cut by the model's own signal, cut by the local VAD (the simulated model
 * made slow to notice), back-channels and the caller's echo that must not cut, and stale marks after the
 * clear. What the bridge says was heard is checked against what the phone actually played.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLY_TEXTS } from "../bridge/simulator/replies.ts";
import type { TurnMessage } from "../shared/bridge-protocol.ts";
import { BridgePhone, type BridgePhoneOptions } from "./bridge-phone.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";
import { loadAudioFixture } from "./fixtures/fixtures.ts";

const orderStatus = loadAudioFixture("order-status", "speech");

function isPrefixOfWords(part: string, whole: string): boolean {
  const a = part.split(/\s+/).filter(Boolean);
  const b = whole.split(/\s+/).filter(Boolean);
  return a.length < b.length && a.every((word, i) => word === b[i]);
}

async function call(stack: BridgeStack, options: Partial<BridgePhoneOptions> = {}): Promise<BridgePhone> {
  const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET, ...options });
  phone.start();
  return phone;
}

function turn(phone: BridgePhone, index: number): TurnMessage | undefined {
  return phone.controlsOf("turn").find((t) => t.turnIndex === index);
}

/** The caller starts talking once they have heard `afterMs` of the greeting. */
async function talkOverGreeting(phone: BridgePhone, afterMs: number): Promise<void> {
  await phone.waitFor(() => phone.heardMs >= afterMs, 15_000, "the greeting to play");
  await phone.say(orderStatus.mulaw.subarray(orderStatus.onsetMs * 8));
}

function expectCutGreeting(phone: BridgePhone, by: "model" | "vad"): void {
  const greeting = turn(phone, 0)!;
  expect(greeting).toMatchObject({
    interrupted: true,
    interruptedBy: by,
    assistantText: REPLY_TEXTS.greeting,
  });
  expect(phone.clears).toHaveLength(1);
  // The heard portion the bridge reports is what the phone played before the clear arrived (give or take
  // the clear's trip over the loopback, a few frames at most even on a busy machine).
  expect(Math.abs(greeting.heardMs - phone.heardMsAtClear[0]!)).toBeLessThanOrEqual(100);
  expect(greeting.heardMs).toBeLessThan(greeting.replyMs);
  expect(isPrefixOfWords(greeting.heardText, REPLY_TEXTS.greeting)).toBe(true);
  expect(greeting.heardText.length).toBeGreaterThan(0);
  expect(greeting.timings.bargeInOnsetMs).toBeDefined();
  expect(greeting.timings.clearSentMs).toBeGreaterThanOrEqual(greeting.timings.bargeInOnsetMs!);
  const assistant = phone.controlsOf("transcript").find((t) => t.turnIndex === 0 && t.role === "ASSISTANT");
  expect(assistant?.text).toBe(greeting.heardText);
}

describe("barge-in by the model's signal (local VAD off)", () => {
  let stack: BridgeStack;
  beforeAll(async () => {
    stack = await startBridgeStack({ env: { BARGE_IN_VAD: "off" } });
  });
  afterAll(async () => stack?.close());

  it("clears the reply, records the heard part, and ignores the marks the clear echoes", async () => {
    const phone = await call(stack);
    await talkOverGreeting(phone, 1200);
    await phone.waitFor(() => turn(phone, 1) !== undefined, 15_000, "the answer after the barge-in");
    expectCutGreeting(phone, "model");
    // Twilio echoed the pending marks of the cut reply on clear: all of the old generation.
    expect(phone.clearedMarks.length).toBeGreaterThan(0);
    expect(phone.clearedMarks.every((name) => name.startsWith("g0:t0:"))).toBe(true);
    // The next reply plays in the new generation and is recognised as played out in full.
    const answer = turn(phone, 1)!;
    expect(answer).toMatchObject({
      interrupted: false,
      userText: orderStatus.text,
      heardText: REPLY_TEXTS.ack,
    });
    expect(answer.heardMs).toBe(answer.replyMs);
    expect(phone.echoedMarks.filter((name) => name.startsWith("g1:t1:")).length).toBeGreaterThan(0);
    await phone.hangUp();
  }, 30_000);
});

describe("barge-in by the local VAD (the model is slow to notice)", () => {
  let stack: BridgeStack;
  beforeAll(async () => {
    stack = await startBridgeStack({ simulator: { minSpeechMs: 1500 } });
  });
  afterAll(async () => stack?.close());

  it("cuts the reply on confirmed caller speech", async () => {
    const phone = await call(stack);
    await talkOverGreeting(phone, 1000);
    await phone.waitFor(() => turn(phone, 0) !== undefined, 5000, "the cut greeting");
    expectCutGreeting(phone, "vad");
    await phone.hangUp();
  }, 30_000);

  it("lets the caller's own echo pass without touching the reply", async () => {
    const phone = await call(stack, { echo: { lossDb: 25, delayMs: 60 } });
    await phone.waitFor(() => turn(phone, 0) !== undefined, 15_000, "the greeting to end");
    expect(turn(phone, 0)).toMatchObject({ interrupted: false, heardText: REPLY_TEXTS.greeting });
    expect(phone.clears).toEqual([]);
    await phone.hangUp();
  }, 30_000);

  it("holds the reply for a back-channel, then carries on where the caller stopped hearing it", async () => {
    const phone = await call(stack, { echo: { lossDb: 25, delayMs: 60 } });
    await phone.waitFor(() => phone.heardMs >= 500, 15_000, "the greeting to play");
    await phone.say(loadAudioFixture("mm-hm", "backchannel").mulaw);
    await phone.say(loadAudioFixture("uh-huh", "backchannel").mulaw);
    await phone.waitFor(() => turn(phone, 0) !== undefined, 15_000, "the greeting to end");
    const greeting = turn(phone, 0)!;
    expect(greeting).toMatchObject({ interrupted: false, heardText: REPLY_TEXTS.greeting });
    expect(greeting.heardMs).toBe(greeting.replyMs);
    // Each back-channel stopped the reply at once (a clear) and did not cut it: the caller heard all of it,
    // a little of it twice (sending resumes at the last whole 20 ms frame heard).
    expect(phone.clears.length).toBeGreaterThanOrEqual(1);
    expect(phone.clears.length).toBeLessThanOrEqual(2);
    expect(phone.heardMs).toBeGreaterThanOrEqual(greeting.replyMs);
    expect(phone.heardMs).toBeLessThanOrEqual(greeting.replyMs + 20 * phone.clears.length);
    await phone.hangUp();
  }, 30_000);
});
