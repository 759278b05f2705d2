import { describe, expect, it } from "vitest";
import type { CallMeasure, ReplyTurnMeasure } from "./call-measures.ts";
import { computeFigures, failureKind } from "./full-stack-figures.ts";

function turn(systemMs: number, upstreamMs: number): ReplyTurnMeasure {
  return {
    label: "x",
    spokenOverReply: false,
    phoneSpeechEndMs: 1000,
    phoneFirstFrameMs: 1900 + systemMs,
    phoneFirstHeardMs: 1900 + systemMs,
    simLastSpeechFrameAtMs: 1000 + upstreamMs,
    simEndpointAtMs: null,
    simFirstAudioOutAtMs: null,
    bridgeFirstModelAudioMs: null,
    bridgeFirstFrameSentMs: null,
    upstreamMs,
    modelMs: 900,
    downstreamMs: systemMs - upstreamMs,
    systemMs,
    simToBridgeMs: null,
    bridgeInsideMs: null,
    bridgeToPhoneMs: null,
    speechAligned: true,
  };
}

function call(index: number, turns: ReplyTurnMeasure[], failures: string[], underruns = 0): CallMeasure {
  return {
    callIndex: index,
    callSid: `CA${index}`,
    sessionId: null,
    startedAtMs: 0,
    durationMs: 20_000,
    failures,
    greeting: null,
    turns,
    bargeIn: {
      onsetMs: 0,
      onsetToClearMs: 120,
      heardAfterOnsetMs: 118,
      onsetToClearSentMs: 60,
      onsetToSimInterruptMs: 110,
      simInterruptToClearSentMs: 5,
      clearTransitMs: 5,
      interruptedBy: "model",
    },
    underruns,
    underrunGapsMs: [],
    clears: 1,
  };
}

describe("the run's figures", () => {
  it("summarises every measured turn and checks the targets", () => {
    const figures = computeFigures(
      [call(0, [turn(4, 1), turn(6, 2), turn(8, 3)], []), call(1, [turn(50, 40)], ['no reply to "x"'], 2)],
      3,
    );
    const row = (key: string) => figures.rows.find((candidate) => candidate.key === key);
    expect(row("systemAdded")?.summary).toMatchObject({ count: 4, p50: 6, max: 50 });
    expect(row("systemAdded")?.target).toEqual({ text: "p50 ≤ 10, p99 ≤ 40", met: false });
    expect(row("bargeInClear")?.target?.met).toBe(true);
    expect(row("underrunsPerCall")?.summary.max).toBe(2);
    expect(row("greetingFirstHeard")?.summary.count).toBe(0);
    expect(row("greetingFirstHeard")?.target?.met).toBe(false);
    expect(figures.calls).toMatchObject({ placed: 2, ok: 1, byFirstReason: { "no reply to …": 1 } });
    expect(figures.turns).toMatchObject({ expected: 6, measured: 4, speechAligned: 4 });
    expect(figures.interruptedBy).toEqual({ model: 2 });
    expect(figures.underrunsTotal).toBe(2);
  });

  it("groups failure reasons without their particulars", () => {
    expect(failureKind("call failed: barge-in: no reply")).toBe("call failed");
    expect(failureKind("3 invalid frames (bad json)")).toBe("3 invalid frames");
    expect(failureKind("stream closed with 4011")).toBe("stream closed with 4011");
  });
});
