/**
 * The call's model, across sessions. A Nova Sonic session lives at most 8 minutes and may fail; the call
 * talks to this instead of one ModelSession, and this keeps a session in use:
 *
 * - Long calls. At `rolloverAfterMs` of the session's age the next session is opened (sessionStart,
 *   promptStart and system prompt go out: its connection is up when needed). At the first quiet moment
 *   (session-policy.ts) it gets the conversation so far as history (what the caller heard) and the caller's
 *   audio from then on; the old session is closed in protocol order. Every caller frame goes to exactly one
 *   session, so none is lost; near the limit the switch happens anyway, and caller speech the old session
 *   never answered is replayed to the new one. Timers drive it, not turns: a silent line switches too.
 * - Start failures (throttling, unavailability: an HTTP error, an in-stream exception, or an end before the
 *   session is confirmed): retried on a fresh stream after a jittered exponential backoff, up to
 *   `startAttempts`; the caller's audio and texts sent meanwhile are kept and given to the next attempt.
 *   A ValidationException at the start of a session that got history is retried with half the history
 *   (the service's limits are only "reported"); without history it ends the call, as bad credentials do.
 * - Mid-call failures (modelStreamErrorException, a stream that ends without completionEnd, an SDK error):
 *   the call is told (it cuts the reply, apologises) and a fresh session resumes with the history at once;
 *   `maxFailures` within `failureWindowMs` end the call (the call says goodbye).
 *
 * Each session is tracked by a SessionSlot (session-slot.ts: accepted, confirmed, inputs kept for a retry).
 */
import type { HistoryEntry } from "../shared/bridge-protocol.ts";
import { AppError, type ErrorCode } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { NovaOutputEvent } from "../shared/nova-events.ts";
import type { VoiceChange } from "./caller-voice.ts";
import type { SessionPolicyConfig } from "./config-sessions.ts";
import { ModelReplies } from "./model-replies.ts";
import type { ModelSession, ModelSessionListener } from "./model-session.ts";
import { SessionInputs } from "./session-inputs.ts";
import {
  ConversationActivity,
  FailureWindow,
  retryDelayMs,
  type SwitchReason,
  switchDecision,
} from "./session-policy.ts";
import { type SlotInput as Input, SessionSlot as Slot } from "./session-slot.ts";
import { SessionStats } from "./session-stats.ts";

/** How often a prepared switch is reconsidered when no caller frame comes to trigger it. */
const SWITCH_CHECK_MS = 100;
/** Failures a retry cannot mend (a refused history is retried shorter first). */
const FATAL_CODES: ReadonlySet<ErrorCode> = new Set(["bad_config", "model_validation"]);

export interface ContinuityListener {
  onEvent(event: NovaOutputEvent, receivedMs: number): void;
  /** The conversation so far, for a session about to take over. */
  history(): HistoryEntry[];
  /** Whether the caller is hearing (or about to hear) a reply already received. */
  replyPlaying(): boolean;
  /**
   * The next session takes over (rollover). `modelWasBusy`: the old one owed or was giving an answer,
   * which is cut short. Returns an interactive text for the new session, if any.
   */
  onSwitch(info: { reason: SwitchReason; modelWasBusy: boolean }): string | null;
  /** The session failed mid-call; a fresh one takes over at once. Returns a text for it, if any. */
  onLost(failure: AppError, info: { modelWasBusy: boolean }): string | null;
  /** A session start is retried after `delayMs` (the caller may hear a hold prompt meanwhile). */
  onStartRetry?(failure: AppError, attempt: number, delayMs: number): void;
  /** The model keeps failing: the call says goodbye and ends. */
  onGiveUp(failure: AppError): void;
}

export interface SessionContinuityOptions {
  /** Opens a model session wired to `listener` (the first may be a pre-warmed one). */
  open(listener: ModelSessionListener): ModelSession;
  listener: ContinuityListener;
  policy: SessionPolicyConfig;
  logger: Logger;
  now: () => number;
  /** The bridge's counters (this call's own are logged when it ends). */
  bridgeStats?: SessionStats;
  random?: () => number;
}

export class SessionContinuity {
  readonly #o: SessionContinuityOptions;
  readonly #log: Logger;
  readonly #stats = new SessionStats();
  readonly #activity = new ConversationActivity();
  readonly #replies = new ModelReplies();
  readonly #inputs = new SessionInputs();
  readonly #failures: FailureWindow;
  #current: Slot | null = null;
  #next: Slot | null = null;
  #startAttempt = 0;
  #standbyAttempt = 0;
  #slots = 0;
  #warm = false;
  /** Most history messages a session gets: lowered when the service refuses a history (its limits may be tighter). */
  #historyCap = Number.POSITIVE_INFINITY;
  #done = false;
  #rolloverTimer: NodeJS.Timeout | null = null;
  #switchTimer: NodeJS.Timeout | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #standbyTimer: NodeJS.Timeout | null = null;

  constructor(options: SessionContinuityOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#failures = new FailureWindow(options.policy.failureWindowMs);
  }

  /** Whether the first session came warm (pool or pre-warm). */
  get warm(): boolean {
    return this.#warm;
  }

  /** The session in use, for logs and measurements ("" between sessions). */
  get key(): string {
    return this.#current?.session?.key ?? "";
  }

  /** Opens the first session: history from the listener, then `instruction` (e.g. the greeting request). */
  start(instruction: string | null): void {
    this.#begin(this.#open(), instruction);
    this.#warm = this.#current?.session?.warm ?? false;
  }

  sendAudio(base64: string, atMs: number): void {
    if (this.#done) return;
    this.#inputs.recordAudio(base64, atMs, this.#activity.unansweredSpeechOnsetMs(atMs));
    this.#input({ kind: "audio", base64 }, atMs);
    if (this.#next) this.#considerSwitch(atMs);
  }

  /** An interactive USER text (greeting request, keypad digits): the model answers it. */
  sendUserText(text: string): void {
    if (this.#done) return;
    const nowMs = this.#o.now();
    this.#activity.inputSent(nowMs);
    this.#input({ kind: "text", text }, nowMs);
  }

  sendToolResult(toolUseId: string, resultJson: string): void {
    const slot = this.#current;
    if (this.#done || !slot) return;
    // Only the session that asked may be answered; one that took over would refuse the result.
    if (slot.answerTool(toolUseId, resultJson)) this.#activity.inputSent(this.#o.now());
    else this.#log.warn("tool result dropped: its session was replaced", { toolUseId });
  }

  /**
   * Whether someone waits on the caller's audio right now: the caller is speaking, or has said something the
   * model has yet to answer (its turn-end detection runs on this audio). Otherwise the audio may gather.
   */
  callerAudioAwaited(nowMs: number): boolean {
    return this.#activity.callerSpeaking || this.#activity.unansweredSpeechOnsetMs(nowMs) !== null;
  }

  /** The caller's voice activity (local VAD), for choosing a quiet moment and replaying unanswered speech. */
  voice(change: VoiceChange): void {
    this.#activity.voice(change);
  }

  /** Ends every session in protocol order; the call is over. */
  async close(): Promise<void> {
    if (this.#done && !this.#current && !this.#next) return;
    this.#done = true;
    this.#clearTimers();
    const slots = [this.#current, this.#next];
    this.#current = null;
    this.#next = null;
    this.#log.info("model sessions summary", { ...this.#stats.snapshot() });
    await Promise.allSettled(slots.map((slot) => slot?.close()));
  }

  // ---- sessions -------------------------------------------------------------------------------------------

  #open(): Slot {
    this.#count((stats) => stats.opened());
    const slot: Slot = new Slot({
      number: ++this.#slots,
      openedAtMs: this.#o.now(),
      open: this.#o.open,
      listener: {
        onEvent: (event, receivedMs) => this.#onEvent(slot, event, receivedMs),
        onEnd: (error) => this.#onEnd(slot, error),
      },
    });
    return slot;
  }

  /** The slot takes over: history, then the instruction, then what was held for it. */
  #begin(slot: Slot, instruction: string | null): void {
    if (this.#current !== null && this.#current !== slot)
      throw new AppError("internal", "two sessions in use");
    this.#current = slot;
    const full = this.#o.listener.history();
    const history = full.slice(Math.max(0, full.length - this.#historyCap));
    slot.historyEntries = history.length;
    slot.begin(history, instruction, this.#o.now());
    const held = this.#inputs.takeHeld();
    for (const input of held) slot.deliver(input);
    this.#armRollover(slot);
    this.#log.info("model session in use", {
      session: slot.number,
      key: slot.key,
      historyEntries: history.length,
      instruction: instruction !== null,
      heldInputs: held.length,
    });
  }

  #input(input: Input, atMs: number): void {
    const slot = this.#current;
    if (slot?.session) {
      if (slot.confirmIfDue(atMs)) this.#startAttempt = 0;
      slot.deliver(input);
      return;
    }
    this.#inputs.hold(input);
  }

  #onEvent(slot: Slot, event: NovaOutputEvent, receivedMs: number): void {
    if (this.#done || slot !== this.#current) return;
    if (!slot.confirmed) {
      slot.confirm();
      this.#startAttempt = 0;
    }
    const step = this.#replies.accept(event);
    if (step.kind === "tool-use") slot.toolUsed(step.toolUseId);
    this.#activity.modelStep(step, receivedMs);
    this.#o.listener.onEvent(event, receivedMs);
  }

  #onEnd(slot: Slot, failure: AppError): void {
    // A session being replaced may fail while it closes: that is no failure of the call.
    if (this.#done || (slot !== this.#current && slot !== this.#next)) return;
    this.#count((stats) => stats.failed(failure.code));
    if (slot === this.#next) {
      this.#next = null;
      this.#stopSwitchChecks();
      // The session in use carries on; if no standby can be had before its limit, that limit is a failure.
      const attempt = ++this.#standbyAttempt;
      const delayMs = retryDelayMs(attempt, this.#o.policy, this.#o.random ?? Math.random);
      this.#log.warn("standby model session failed", { code: failure.code, error: failure.message, delayMs });
      this.#standbyTimer = setTimeout(() => {
        this.#standbyTimer = null;
        this.#prepareNext();
      }, delayMs);
      return;
    }
    this.#current = null;
    if (this.#rolloverTimer) clearTimeout(this.#rolloverTimer);
    const nowMs = this.#o.now();
    if (!slot.confirmed) {
      this.#startAttempt++;
      this.#log.warn("model session failed to start", {
        code: failure.code,
        error: failure.message,
        attempt: this.#startAttempt,
      });
      // Everything sent to it goes to the next attempt, before what comes meanwhile.
      this.#inputs.holdFirst(slot.unconfirmedInputs());
      if (failure.code === "model_validation" && slot.historyEntries > 0) {
        // The service refused what it was given at the start: perhaps our history. Try with less of it.
        this.#historyCap = Math.floor(slot.historyEntries / 2);
        this.#log.warn("history refused? retrying with less", { historyCap: this.#historyCap });
      }
      if (FATAL_CODES.has(failure.code) && slot.historyEntries === 0) this.#giveUp(failure);
      else
        this.#retryLater(() => this.#begin(this.#takeNext(), slot.instruction), this.#startAttempt, failure);
      return;
    }
    const inWindow = this.#failures.record(nowMs);
    this.#log.error("model session failed mid-call", {
      code: failure.code,
      error: failure.message,
      failuresInWindow: inWindow,
    });
    if (inWindow >= this.#o.policy.maxFailures) {
      this.#giveUp(failure);
      return;
    }
    const modelWasBusy = this.#activity.modelBusy(nowMs);
    const replayFromMs = this.#activity.unansweredSpeechOnsetMs(nowMs);
    this.#activity.modelReplaced();
    const instruction = this.#o.listener.onLost(failure, { modelWasBusy });
    if (this.#done) return;
    this.#count((stats) => stats.recovered());
    if (replayFromMs !== null) this.#holdReplay(replayFromMs);
    this.#begin(this.#takeNext(), instruction);
  }

  /** The standby session if one is open (its connection is up), else a new one. */
  #takeNext(): Slot {
    const next = this.#next;
    this.#next = null;
    this.#stopSwitchChecks();
    return next ?? this.#open();
  }

  #retryLater(action: () => void, attempt: number, failure: AppError): void {
    if (attempt >= this.#o.policy.startAttempts) {
      this.#giveUp(failure);
      return;
    }
    const delayMs = retryDelayMs(attempt, this.#o.policy, this.#o.random ?? Math.random);
    this.#count((stats) => stats.startRetried());
    this.#log.info("model session start retried", { code: failure.code, attempt, delayMs });
    this.#o.listener.onStartRetry?.(failure, attempt, delayMs);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (!this.#done) action();
    }, delayMs);
  }

  #giveUp(failure: AppError): void {
    if (this.#done) return;
    this.#log.error("model keeps failing: the call ends", { code: failure.code });
    this.#count((stats) => stats.gaveUp());
    void this.close();
    this.#o.listener.onGiveUp(failure);
  }

  // ---- rollover -------------------------------------------------------------------------------------------

  #armRollover(slot: Slot): void {
    if (this.#rolloverTimer) clearTimeout(this.#rolloverTimer);
    const dueMs = slot.openedAtMs + this.#o.policy.rolloverAfterMs - this.#o.now();
    this.#rolloverTimer = setTimeout(
      () => {
        this.#rolloverTimer = null;
        if (slot === this.#current) this.#prepareNext();
      },
      Math.max(0, dueMs),
    );
  }

  #prepareNext(): void {
    if (this.#done || this.#next || !this.#current) return;
    this.#next = this.#open();
    this.#log.info("next model session opening", {
      session: this.#next.number,
      ageMs: Math.round(this.#o.now() - this.#current.openedAtMs),
    });
    this.#switchTimer = setInterval(() => this.#considerSwitch(this.#o.now()), SWITCH_CHECK_MS);
  }

  #considerSwitch(nowMs: number): void {
    const current = this.#current;
    if (this.#done || !this.#next || !current) return;
    const reason = switchDecision(this.#o.policy, {
      ageMs: nowMs - current.openedAtMs,
      callerSpeaking: this.#activity.callerSpeaking,
      replyPlaying: this.#o.listener.replyPlaying(),
      modelBusy: this.#activity.modelBusy(nowMs),
      unansweredSpeech: this.#activity.unansweredSpeechOnsetMs(nowMs) !== null,
    });
    // The caller's audio would wait for the new stream's connection: not worth it before the deadline.
    if (reason === "deadline" || (reason !== null && this.#next.accepted))
      this.#switch(current, reason, nowMs);
  }

  #switch(old: Slot, reason: SwitchReason, nowMs: number): void {
    const next = this.#next;
    if (!next) return;
    this.#next = null;
    this.#standbyAttempt = 0;
    this.#stopSwitchChecks();
    const modelWasBusy = this.#activity.modelBusy(nowMs);
    const replayFromMs = reason === "quiet" ? null : this.#activity.unansweredSpeechOnsetMs(nowMs);
    this.#activity.modelReplaced();
    this.#current = null;
    const instruction = this.#o.listener.onSwitch({ reason, modelWasBusy });
    const replayedBytes = replayFromMs === null ? 0 : this.#holdReplay(replayFromMs);
    this.#begin(next, instruction);
    this.#count((stats) => stats.switched(reason));
    this.#log.info("model session switched", {
      reason,
      from: old.number,
      to: next.number,
      fromKey: old.key,
      toKey: next.key,
      ageMs: Math.round(nowMs - old.openedAtMs),
      modelWasBusy,
      replayedBytes,
      atMs: Math.round(nowMs),
    });
    void old.close();
  }

  /** Holds the caller's audio since `fromMs` for the session about to take over; returns its PCM bytes. */
  #holdReplay(fromMs: number): number {
    const bytes = this.#inputs.replaySince(fromMs);
    this.#count((stats) => stats.replayed(bytes));
    return bytes;
  }

  #stopSwitchChecks(): void {
    if (this.#switchTimer) clearInterval(this.#switchTimer);
    this.#switchTimer = null;
  }

  #clearTimers(): void {
    this.#stopSwitchChecks();
    for (const timer of [this.#rolloverTimer, this.#retryTimer, this.#standbyTimer]) {
      if (timer) clearTimeout(timer);
    }
    this.#rolloverTimer = null;
    this.#retryTimer = null;
    this.#standbyTimer = null;
  }

  #count(update: (stats: SessionStats) => void): void {
    update(this.#stats);
    if (this.#o.bridgeStats) update(this.#o.bridgeStats);
  }
}
