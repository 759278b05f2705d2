/**
 * End to end through workerd (wrangler dev) + bridge + Nova Sonic simulator, with the phone simulator
 * placing calls exactly as Twilio does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallResult, placeCall } from "../phone/phone-call.ts";
import { SpeechLibrary } from "../phone/script.ts";
import { fetchCallRecord } from "../phone/waterfall.ts";
import { newCallIdentity, postSigned, voiceParams } from "../phone/webhook.ts";
import { startTestStack, type TestStack } from "./test-stack.ts";

const library = new SpeechLibrary();
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({});
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

function call(script: Parameters<typeof placeCall>[0]["script"]): Promise<CallResult> {
  return placeCall({ edgeBaseUrl: stack.edgeUrl, authToken: stack.authToken, script, tailMs: 200 });
}

async function record(result: CallResult) {
  return fetchCallRecord(stack.edgeUrl, stack.adminToken, result.identity.callSid);
}

describe("a call through the whole stack", () => {
  it("greets the caller, answers three turns, and keeps the transcript", async () => {
    const utterances = ["order-status", "opening-hours", "yes-please"].map((name) => library.utterance(name));
    const result = await call([
      { kind: "waitForReply" },
      ...utterances.flatMap((utterance) => [
        { kind: "say" as const, utterance },
        { kind: "waitForReply" as const },
      ]),
    ]);
    expect(result.invalidFrames).toEqual([]);
    expect(result.greetingFirstHeardMs).not.toBeNull();
    for (const turn of result.turns) expect(turn.firstHeardMs, turn.label).not.toBeNull();
    expect(result.marksEchoed).toBeGreaterThan(0);
    // Underruns depend on machine load: `npm run bench` measures them; here the reply only has to arrive.

    const view = await record(result);
    // The greeting is the cached prompt, started as Twilio's `start` reached the bridge.
    const greeting = await fetch(`${stack.edgeUrl}/calls/${result.identity.callSid}`, {
      headers: { authorization: `Bearer ${stack.adminToken}` },
    }).then(
      (response) => response.json() as Promise<{ turns: { turnIndex: number; cachedPrompt?: string }[] }>,
    );
    expect(greeting.turns.find((turn) => turn.turnIndex === 0)?.cachedPrompt).toBe("greeting");
    const userTexts = view.turns.map((turn) => turn.userText);
    for (const utterance of utterances) expect(userTexts).toContain(utterance.text);
    for (const turn of view.turns) {
      expect(turn.assistantText.length).toBeGreaterThan(0);
      expect(turn.interrupted).toBe(false);
      expect(turn.heardText).toBe(turn.assistantText);
    }
    // The bridge's timings are on the same clock as the phone's: the reply left the bridge before the
    // phone received it, and after the caller stopped speaking.
    const orderTurn = view.turns.find((turn) => turn.userText === utterances[0]?.text);
    const phoneTurn = result.turns[0];
    expect(orderTurn?.timings.firstFrameSentMs).toBeGreaterThan(phoneTurn?.speechEndMs ?? Infinity);
    expect(orderTurn?.timings.firstFrameSentMs).toBeLessThanOrEqual(
      phoneTurn?.firstReplyFrameMs ?? -Infinity,
    );
  }, 60_000);

  it("cuts the reply when the caller talks over it (the model's interrupted signal)", async () => {
    const result = await call([
      { kind: "waitForReply" },
      { kind: "say", utterance: library.utterance("order-status") },
      { kind: "bargeIn", utterance: library.utterance("not-right"), afterHeardMs: 600 },
      { kind: "waitForReply" },
    ]);
    const bargeIn = result.turns[1]?.bargeIn;
    expect(bargeIn?.clearMs).not.toBeNull();
    expect(result.clears.length).toBeGreaterThanOrEqual(1);
    const view = await record(result);
    const cut = view.turns.find((turn) => turn.interrupted);
    expect(cut?.interruptedBy).toBe("model");
    expect(cut?.heardMs).toBeGreaterThan(0);
    expect(cut?.assistantText.startsWith(cut.heardText)).toBe(true);
    expect(cut?.heardText.length).toBeLessThan(cut?.assistantText.length ?? 0);
    // The caller's next turn was still answered.
    expect(result.turns[1]?.firstHeardMs).not.toBeNull();
  }, 60_000);

  it("passes keypad digits to the model as text", async () => {
    const result = await call([
      { kind: "waitForReply" },
      { kind: "dtmf", digit: "7" },
      { kind: "waitForReply" },
    ]);
    const view = await record(result);
    expect(view.turns.some((turn) => turn.userText.includes("7"))).toBe(true);
  }, 60_000);

  it("refuses a webhook with a bad signature", async () => {
    const identity = newCallIdentity();
    const forged = await postSigned(
      `${stack.edgeUrl}/voice`,
      "not-the-auth-token-at-all",
      voiceParams(identity),
    );
    expect(forged.status).toBe(403);
    const unsigned = await fetch(`${stack.edgeUrl}/voice`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(voiceParams(identity)).toString(),
    });
    expect(unsigned.status).toBe(403);
  });

  it("drops malformed frames of one call without harming it or a concurrent call", async () => {
    const garbage = [
      "{not json",
      JSON.stringify({ event: "teleport", streamSid: "MZ00000000000000000000000000000000" }),
      `{"event":"dtmf","pad":"${"x".repeat(70_000)}"}`,
      JSON.stringify({ event: "dtmf", sequenceNumber: 3, streamSid: "MZ1", dtmf: { digit: 5 } }),
    ];
    const [noisy, quiet] = await Promise.all([
      call([
        { kind: "waitForReply" },
        ...garbage.map((frame) => ({ kind: "raw" as const, frame })),
        { kind: "say", utterance: library.utterance("repeat-that") },
        { kind: "waitForReply" },
      ]),
      call([
        { kind: "waitForReply" },
        { kind: "say", utterance: library.utterance("account-number") },
        { kind: "waitForReply" },
      ]),
    ]);
    for (const result of [noisy, quiet]) {
      expect(result.invalidFrames).toEqual([]);
      expect(result.turns[0]?.firstHeardMs).not.toBeNull();
    }
    const noisyView = await fetch(`${stack.edgeUrl}/calls/${noisy.identity.callSid}`, {
      headers: { authorization: `Bearer ${stack.adminToken}` },
    }).then((response) => response.json() as Promise<{ badFrames: Record<string, number> }>);
    const dropped = Object.values(noisyView.badFrames).reduce((sum, count) => sum + count, 0);
    expect(dropped).toBe(garbage.length);
  }, 60_000);
});
