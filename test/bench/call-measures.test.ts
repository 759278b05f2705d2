import { describe, expect, it } from "vitest";
import { newSessionRecord, type TurnRecord } from "../../bridge/simulator/records.ts";
import type { CallResult, TurnResult } from "../phone/phone-call.ts";
import type { BridgeTurn, CallRecordView } from "../phone/waterfall.ts";
import { newCallIdentity } from "../phone/webhook.ts";
import { type CallOutcome, measureCall } from "./call-measures.ts";
import type { BenchCallPlan, BenchUtterance } from "./call-scripts.ts";

const T0 = 1_800_000_000_000;

function utterance(label: string): BenchUtterance {
  return {
    label,
    text: label,
    mulaw: new Uint8Array(0),
    speechOnsetMs: 400,
    speechEndMs: 1400,
    expectedSimSpeechMs: 1000,
  };
}

const plan: BenchCallPlan = {
  callIndex: 3,
  steps: [],
  utterances: [utterance("first"), utterance("second"), utterance("third")],
  bargeInAfterHeardMs: 700,
};

function phoneTurn(label: string, speechEndMs: number, firstReplyFrameMs: number | null): TurnResult {
  return {
    label,
    text: label,
    speechOnsetMs: speechEndMs - 1000,
    speechEndMs,
    firstReplyFrameMs,
    firstHeardMs: firstReplyFrameMs,
    bargeIn: null,
  };
}

function simTurn(index: number, fields: Partial<TurnRecord>): TurnRecord {
  return {
    index,
    trigger: "audio",
    transcript: undefined,
    lastSpeechFrameAtMs: undefined,
    endpointAtMs: 0,
    speechMs: undefined,
    modelLatencyMs: 300,
    firstAudioOutAtMs: undefined,
    replyId: undefined,
    replyDurationMs: undefined,
    toolUse: undefined,
    outcome: "completed",
    interruptedAtMs: undefined,
    ...fields,
  };
}

function bridgeTurn(turnIndex: number, userText: string, timings: BridgeTurn["timings"]): BridgeTurn {
  return {
    turnIndex,
    userText,
    assistantText: "reply",
    heardText: "reply",
    heardMs: 1000,
    replyMs: 1000,
    interrupted: false,
    timings,
    atMs: 0,
  };
}

function scenario() {
  const result: CallResult = {
    identity: newCallIdentity(),
    twimlKind: "stream",
    twiml: "<Response/>",
    streamStartMs: T0,
    greetingFirstFrameMs: T0 + 350,
    greetingFirstHeardMs: T0 + 350.5,
    turns: [
      phoneTurn("first", T0 + 6000, T0 + 6904),
      phoneTurn("second", T0 + 12_000, T0 + 12_903),
      {
        ...phoneTurn("third", T0 + 16_000, T0 + 16_905),
        speechOnsetMs: T0 + 14_000,
        bargeIn: { clearMs: T0 + 14_110, heardAfterOnsetMs: 108 },
      },
    ],
    heard: new Uint8Array(0),
    clears: [T0 + 14_110],
    marksEchoed: 10,
    invalidFrames: [],
    gaps: [
      [T0 + 4000, T0 + 6904],
      [T0 + 7100, T0 + 7160],
    ],
    closeCode: 1000,
  };
  const session = newSessionRecord("s-1", "amazon.nova-2-sonic-v1:0", [], T0 - 100);
  session.turns.push(
    simTurn(0, { trigger: "text", replyId: "greeting", endpointAtMs: T0 + 8, firstAudioOutAtMs: T0 + 347 }),
    simTurn(1, {
      transcript: "first",
      lastSpeechFrameAtMs: T0 + 6001.5,
      speechMs: 1000,
      firstAudioOutAtMs: T0 + 6901,
    }),
    simTurn(2, {
      transcript: "second",
      lastSpeechFrameAtMs: T0 + 12_001,
      speechMs: 980,
      firstAudioOutAtMs: T0 + 12_900,
      outcome: "interrupted",
      interruptedAtMs: T0 + 14_101,
    }),
    simTurn(3, {
      transcript: "third",
      lastSpeechFrameAtMs: T0 + 16_001,
      speechMs: 1000,
      firstAudioOutAtMs: T0 + 16_902,
    }),
  );
  const record: CallRecordView = {
    callSid: result.identity.callSid,
    status: "completed",
    sessionWarm: true,
    streamBridgeId: "bridge-1",
    turns: [
      bridgeTurn(0, "", { firstModelAudioMs: T0 + 348, firstFrameSentMs: T0 + 348.2 }),
      bridgeTurn(1, "first", {
        callerSpeechEndMs: T0 + 5990,
        firstModelAudioMs: T0 + 6902,
        firstFrameSentMs: T0 + 6902.5,
      }),
      {
        ...bridgeTurn(2, "second", { callerSpeechEndMs: T0 + 11_990, clearSentMs: T0 + 14_108 }),
        interrupted: true,
        interruptedBy: "model",
      },
    ],
  };
  const outcome: CallOutcome = {
    plan,
    startedAtMs: T0 - 50,
    endedAtMs: T0 + 20_000,
    callSid: result.identity.callSid,
    result,
    error: null,
    record,
    recordError: null,
  };
  return { outcome, session, result };
}

describe("measuring a call", () => {
  it("splits each turn into upstream, model time and downstream, and downstream by the bridge's record", () => {
    const { outcome, session } = scenario();
    const call = measureCall(outcome, session);
    expect(call.failures).toEqual([]);
    const first = call.turns[0];
    expect(first?.upstreamMs).toBeCloseTo(1.5);
    expect(first?.modelMs).toBeCloseTo(899.5);
    expect(first?.downstreamMs).toBeCloseTo(3);
    expect(first?.systemMs).toBeCloseTo(4.5);
    expect(first?.simToBridgeMs).toBeCloseTo(1);
    expect(first?.bridgeInsideMs).toBeCloseTo(0.5);
    expect(first?.bridgeToPhoneMs).toBeCloseTo(1.5);
    expect(first?.speechAligned).toBe(true);
    expect(call.turns[1]?.speechAligned).toBe(false);
    // The second turn's bridge record has no reply timings: the split is unknown, the total is not.
    expect(call.turns[1]?.simToBridgeMs).toBeNull();
    expect(call.turns[1]?.systemMs).toBeCloseTo(4);
  });

  it("measures the greeting from the phone's start and the barge-in from the caller's onset", () => {
    const { outcome, session } = scenario();
    const call = measureCall(outcome, session);
    expect(call.greeting).toMatchObject({
      firstFrameMs: 350,
      startToRequestMs: 8,
      modelMs: 339,
      downstreamMs: 3,
    });
    expect(call.bargeIn?.onsetToClearMs).toBeCloseTo(110);
    expect(call.bargeIn?.onsetToSimInterruptMs).toBeCloseTo(101);
    expect(call.bargeIn).toMatchObject({ heardAfterOnsetMs: 108, interruptedBy: "model" });
    expect(call.bargeIn?.simInterruptToClearSentMs).toBeCloseTo(7);
    expect(call.bargeIn?.onsetToClearSentMs).toBeCloseTo(108);
    expect(call.bargeIn?.clearTransitMs).toBeCloseTo(2);
    expect(call.underruns).toBe(1);
    expect(call.underrunGapsMs[0]).toBeCloseTo(60);
  });

  it("names what went wrong instead of dropping the call", () => {
    const { outcome, result } = scenario();
    const turns = [...result.turns];
    turns[1] = phoneTurn("second", T0 + 12_000, null);
    const broken: CallOutcome = {
      ...outcome,
      result: { ...result, turns, invalidFrames: ["bad json"], closeCode: 1006, greetingFirstHeardMs: null },
      recordError: "HTTP 404",
    };
    const call = measureCall(broken, null);
    expect(call.failures).toEqual([
      "1 invalid frames (bad json)",
      "stream closed with 1006",
      "no greeting heard",
      "no simulator session matched",
      "no call record: HTTP 404",
      'no reply to "second"',
    ]);
    expect(call.turns[0]?.upstreamMs).toBeNull();
    const thrown = measureCall({ ...outcome, result: null, error: "barge-in: no reply" }, null);
    expect(thrown.failures).toEqual(["call failed: barge-in: no reply"]);
  });
});
