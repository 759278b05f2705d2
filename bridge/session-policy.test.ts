import { describe, expect, it } from "vitest";
import type { SessionPolicyConfig } from "./config-sessions.ts";
import {
  AWAITED_REPLY_STALE_MS,
  ConversationActivity,
  FailureWindow,
  retryDelayMs,
  type SwitchState,
  switchDecision,
  UNANSWERED_SPEECH_MS,
} from "./session-policy.ts";

const policy: SessionPolicyConfig = {
  limitMs: 10_000,
  rolloverAfterMs: 6000,
  forceSwitchMarginMs: 2000,
  maxFailures: 3,
  failureWindowMs: 60_000,
  startAttempts: 5,
  retryBaseMs: 100,
  retryMaxMs: 1000,
};

const idle: SwitchState = {
  ageMs: 0,
  callerSpeaking: false,
  replyPlaying: false,
  modelBusy: false,
  unansweredSpeech: false,
};

describe("switchDecision", () => {
  it("waits for the rollover age, then switches at a quiet moment", () => {
    expect(switchDecision(policy, { ...idle, ageMs: 5999 })).toBeNull();
    expect(switchDecision(policy, { ...idle, ageMs: 6000 })).toBe("quiet");
  });

  it("does not switch while the caller speaks, a reply plays, or the model owes an answer", () => {
    for (const busy of [
      { callerSpeaking: true },
      { replyPlaying: true },
      { modelBusy: true },
      { unansweredSpeech: true },
    ]) {
      expect(switchDecision(policy, { ...idle, ...busy, ageMs: 7000 })).toBeNull();
    }
  });

  it("near the limit, switches over speech and playing replies but not over a reply being generated", () => {
    const late = { ...idle, ageMs: 8000, callerSpeaking: true, replyPlaying: true, unansweredSpeech: true };
    expect(switchDecision(policy, late)).toBe("forced");
    expect(switchDecision(policy, { ...late, modelBusy: true })).toBeNull();
    expect(switchDecision(policy, { ...late, modelBusy: true, ageMs: 9000 })).toBe("deadline");
  });
});

describe("ConversationActivity", () => {
  it("is busy from a caller transcript until the reply ends", () => {
    const activity = new ConversationActivity();
    expect(activity.modelBusy(0)).toBe(false);
    activity.modelStep({ kind: "user-text", text: "hello" }, 100);
    expect(activity.modelBusy(200)).toBe(true);
    activity.modelStep({ kind: "reply-audio", pcm: new Uint8Array(2) }, 300);
    expect(activity.generating).toBe(true);
    activity.modelStep({ kind: "reply-end" }, 900);
    expect(activity.modelBusy(900)).toBe(false);
  });

  it("waits for the answer to a text or tool result, but not forever", () => {
    const activity = new ConversationActivity();
    activity.inputSent(1000);
    expect(activity.modelBusy(1000 + AWAITED_REPLY_STALE_MS - 1)).toBe(true);
    expect(activity.modelBusy(1000 + AWAITED_REPLY_STALE_MS)).toBe(false);
    activity.modelStep({ kind: "tool-use", toolName: "t", toolUseId: "u", input: "{}" }, 2000);
    expect(activity.modelBusy(2500)).toBe(true);
    activity.modelReplaced();
    expect(activity.modelBusy(2500)).toBe(false);
  });

  it("remembers caller speech until the model transcribes it, and forgets ignored noise", () => {
    const activity = new ConversationActivity();
    activity.voice({ kind: "onset", atMs: 1000 });
    expect(activity.callerSpeaking).toBe(true);
    activity.voice({ kind: "offset", atMs: 2000 });
    activity.voice({ kind: "onset", atMs: 2300 });
    activity.voice({ kind: "offset", atMs: 2600 });
    expect(activity.callerSpeaking).toBe(false);
    expect(activity.unansweredSpeechOnsetMs(2700)).toBe(1000);
    expect(activity.unansweredSpeechOnsetMs(2600 + UNANSWERED_SPEECH_MS)).toBeNull();
    activity.voice({ kind: "onset", atMs: 9000 });
    activity.modelStep({ kind: "user-text", text: "hi" }, 9500);
    expect(activity.unansweredSpeechOnsetMs(9500)).toBeNull();
  });
});

describe("retryDelayMs", () => {
  it("doubles from the base up to the cap, jittering the upper half", () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(50);
    expect(retryDelayMs(1, policy, () => 1)).toBe(100);
    expect(retryDelayMs(3, policy, () => 1)).toBe(400);
    expect(retryDelayMs(10, policy, () => 1)).toBe(1000);
    expect(retryDelayMs(10, policy, () => 0)).toBe(500);
  });
});

describe("FailureWindow", () => {
  it("counts the failures within the window", () => {
    const window = new FailureWindow(60_000);
    expect(window.record(0)).toBe(1);
    expect(window.record(30_000)).toBe(2);
    expect(window.record(59_999)).toBe(3);
    expect(window.record(90_000)).toBe(2);
  });
});
