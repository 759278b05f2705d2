/**
 * The decisions behind long calls and model failures, pure (bridge/session-continuity.ts carries them out):
 * - what the conversation is doing right now, as far as a session switch cares: is the caller speaking, is
 *   there caller speech the model has not answered yet, is the model answering or about to;
 * - when to switch to the next session: at a quiet moment after the rollover age, or regardless as the
 *   limit nears;
 * - how long to wait before retrying a session start (exponential, jittered, bounded);
 * - whether failures have come too often (a sliding window).
 */

import type { VoiceChange } from "./caller-voice.ts";
import type { SessionPolicyConfig } from "./config-sessions.ts";
import type { ReplyStep } from "./model-replies.ts";

/** Caller speech without a transcript this long after it ended is noise the model ignored. */
export const UNANSWERED_SPEECH_MS = 3000;
/** A reply due this long without any output is not waited for any more (the model let it go). */
export const AWAITED_REPLY_STALE_MS = 15_000;

export class ConversationActivity {
  #awaitingSinceMs: number | null = null;
  #generating = false;
  #speaking = false;
  /** Caller speech the model has not transcribed yet: since when, and when it ended (null: goes on). */
  #unanswered: { onsetMs: number; offsetMs: number | null } | null = null;

  /** A step of the model's output (model-replies.ts), as it arrives. */
  modelStep(step: ReplyStep, atMs: number): void {
    switch (step.kind) {
      case "user-text":
        // The model heard the caller (or echoed a text of ours): an answer follows.
        this.#unanswered = null;
        this.#awaitingSinceMs = atMs;
        return;
      case "reply-text":
      case "spoken-text":
      case "reply-audio":
        this.#generating = true;
        this.#awaitingSinceMs = null;
        return;
      case "reply-end":
      case "interrupted":
        this.#generating = false;
        return;
      case "tool-use":
        // The call answers with a tool result, and the model then replies.
        this.#generating = false;
        this.#awaitingSinceMs = atMs;
        return;
      case "none":
        return;
    }
  }

  /** We sent the model something it answers: an interactive text or a tool result. */
  inputSent(atMs: number): void {
    this.#awaitingSinceMs = atMs;
  }

  voice(change: VoiceChange): void {
    if (change.kind === "onset") {
      this.#speaking = true;
      if (this.#unanswered) this.#unanswered.offsetMs = null;
      else this.#unanswered = { onsetMs: change.atMs, offsetMs: null };
    } else if (change.kind === "offset") {
      this.#speaking = false;
      if (this.#unanswered) this.#unanswered.offsetMs = change.atMs;
    }
  }

  get callerSpeaking(): boolean {
    return this.#speaking;
  }

  get generating(): boolean {
    return this.#generating;
  }

  /** The model owes an answer or is giving one. */
  modelBusy(nowMs: number): boolean {
    if (this.#generating) return true;
    return this.#awaitingSinceMs !== null && nowMs - this.#awaitingSinceMs < AWAITED_REPLY_STALE_MS;
  }

  /** Onset of caller speech the model has not answered (in progress, or ended moments ago); else null. */
  unansweredSpeechOnsetMs(nowMs: number): number | null {
    const unanswered = this.#unanswered;
    if (!unanswered) return null;
    if (unanswered.offsetMs !== null && nowMs - unanswered.offsetMs >= UNANSWERED_SPEECH_MS) return null;
    return unanswered.onsetMs;
  }

  /** A new session takes over: whatever the old one owed or was saying is gone with it. */
  modelReplaced(): void {
    this.#awaitingSinceMs = null;
    this.#generating = false;
  }
}

export type SwitchReason = "quiet" | "forced" | "deadline";

export interface SwitchState {
  /** Age of the session in use. */
  ageMs: number;
  callerSpeaking: boolean;
  /** The caller hears (or is about to hear) a reply already received. */
  replyPlaying: boolean;
  modelBusy: boolean;
  unansweredSpeech: boolean;
}

/**
 * Whether to switch to the next session now. After the rollover age: at a quiet moment (nobody speaking,
 * nothing owed). From `forceSwitchMarginMs` before the limit: as soon as the model owes nothing (caller
 * speech is replayed to the new session, a reply already received plays on). From half that margin before
 * the limit: regardless (a reply still being generated is cut short).
 */
export function switchDecision(policy: SessionPolicyConfig, state: SwitchState): SwitchReason | null {
  const { ageMs } = state;
  if (ageMs < policy.rolloverAfterMs) return null;
  if (ageMs >= policy.limitMs - policy.forceSwitchMarginMs / 2) return "deadline";
  if (state.modelBusy) return null;
  if (ageMs >= policy.limitMs - policy.forceSwitchMarginMs) return "forced";
  if (state.callerSpeaking || state.replyPlaying || state.unansweredSpeech) return null;
  return "quiet";
}

/** Delay before retry number `attempt` (1 = the first retry): exponential, capped, half of it jittered. */
export function retryDelayMs(
  attempt: number,
  policy: Pick<SessionPolicyConfig, "retryBaseMs" | "retryMaxMs">,
  random: () => number,
): number {
  const ceiling = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Failures within a sliding window. */
export class FailureWindow {
  readonly #windowMs: number;
  #times: number[] = [];

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Records a failure at `atMs`; returns how many fell within the window, this one included. */
  record(atMs: number): number {
    this.#times = this.#times.filter((time) => atMs - time < this.#windowMs);
    this.#times.push(atMs);
    return this.#times.length;
  }
}
