/**
 * End to end with two bridges and a model slow to notice interruptions: barge-in must come from the
 * bridge's own VAD, and a bridge killed in the middle of a call must not end the call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallResult, placeCall } from "../phone/phone-call.ts";
import { SpeechLibrary } from "../phone/script.ts";
import { fetchCallRecord } from "../phone/waterfall.ts";
import { startTestStack, type TestStack } from "./test-stack.ts";

const library = new SpeechLibrary();
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    bridges: 2,
    simEnv: { SIM_BARGE_IN_DETECTION_MS: "10000" },
    bridgeEnv: { BARGE_IN_MIN_SPEECH_MS: "300" },
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

function call(script: Parameters<typeof placeCall>[0]["script"]): Promise<CallResult> {
  return placeCall({ edgeBaseUrl: stack.edgeUrl, authToken: stack.authToken, script, tailMs: 200 });
}

describe("barge-in and failover", () => {
  it("cuts the reply on the bridge's VAD when the model does not signal it", async () => {
    const result = await call([
      { kind: "waitForReply" },
      { kind: "say", utterance: library.utterance("order-status") },
      { kind: "bargeIn", utterance: library.utterance("delivery-address"), afterHeardMs: 500 },
      { kind: "waitForReply" },
    ]);
    const bargeIn = result.turns[1]?.bargeIn;
    expect(bargeIn?.clearMs).not.toBeNull();
    const view = await fetchCallRecord(stack.edgeUrl, stack.adminToken, result.identity.callSid);
    const cut = view.turns.find((turn) => turn.interrupted);
    expect(cut?.interruptedBy).toBe("vad");
    expect(cut?.timings.bargeInOnsetMs).toBeDefined();
    expect(cut?.timings.clearSentMs).toBeGreaterThanOrEqual(cut?.timings.bargeInOnsetMs ?? Infinity);
    expect(cut?.assistantText.startsWith(cut.heardText)).toBe(true);
    expect(cut?.heardText.length).toBeLessThan(cut?.assistantText.length ?? 0);
  }, 60_000);

  it("holds the reply for a short back-channel and does not cut it", async () => {
    const result = await call([
      { kind: "waitForReply" },
      { kind: "say", utterance: library.utterance("order-status") },
      { kind: "bargeIn", utterance: library.utterance("mm-hm"), afterHeardMs: 500 },
      { kind: "waitForReply", quietMs: 800 },
    ]);
    // The reply stopped while the caller said "mm-hm" (at most one clear) and then carried on: not cut.
    expect(result.clears.length).toBeLessThanOrEqual(1);
    const view = await fetchCallRecord(stack.edgeUrl, stack.adminToken, result.identity.callSid);
    expect(view.turns.some((turn) => turn.interrupted)).toBe(false);
    for (const turn of view.turns) expect(turn.heardText).toBe(turn.assistantText);
  }, 60_000);

  it("carries on with another bridge when its bridge dies mid-call", async () => {
    let killed = "";
    const result = await call([
      { kind: "waitForReply" },
      { kind: "say", utterance: library.utterance("order-status") },
      { kind: "waitForReply" },
      {
        kind: "do",
        action: async () => {
          // The bridge holding the call is the one with an active call.
          for (const [index, url] of stack.bridgeUrls.entries()) {
            const health = (await fetch(`${url}/healthz`).then((response) => response.json())) as {
              activeCalls: number;
            };
            if (health.activeCalls > 0) killed = `bridge-${index + 1}`;
          }
          await stack.kill(killed, "SIGKILL");
        },
      },
      { kind: "say", utterance: library.utterance("opening-hours") },
      { kind: "waitForReply" },
    ]);
    expect(killed).toMatch(/^bridge-/);
    expect(result.closeCode).toBe(1000);
    expect(result.turns[1]?.firstHeardMs).not.toBeNull();
    const view = await fetchCallRecord(stack.edgeUrl, stack.adminToken, result.identity.callSid);
    expect(view.streamBridgeId).not.toBe(killed);
    expect(view.turns.some((turn) => turn.userText === library.utterance("opening-hours").text)).toBe(true);
  }, 60_000);
});
