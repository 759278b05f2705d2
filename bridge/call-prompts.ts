/**
 * Cached prompts in one call: a prompt plays as the reply of a turn, through the same paced playback as
 * the model's replies, so that barge-in cuts it, the caller's heard portion is recorded (turn and
 * transcript messages, and so the history a later session gets), and the echo guard knows it. The greeting
 * goes out the moment Twilio's `start` arrives; the hold prompt repeats, after a pause, until released.
 * The time from `start` to the greeting's first frame is measured, cached or not.
 */
import { FRAME_MS, MULAW_BYTES_PER_MS } from "../shared/audio/mulaw.ts";
import type { Logger } from "../shared/log.ts";
import type { CallTurns } from "./call-turns.ts";
import type { PromptId } from "./config-fast-paths.ts";
import type { FastPathMetrics } from "./fast-path-metrics.ts";
import type { Playback } from "./playback.ts";
import type { PromptAudio } from "./prompt-audio.ts";
import type { TurnRecord } from "./turn-record.ts";

/** Where the call's prompts come from (prompts.ts); a prompt not ready yet is simply not there. */
export interface PromptSource {
  get(id: PromptId): PromptAudio | undefined;
}

export interface CallPromptsOptions {
  prompts: PromptSource | null;
  playback: Playback;
  turns: CallTurns;
  /** Releases what is due towards Twilio now (the call's pump). */
  pump(): void;
  /** Cuts whatever plays (Twilio `clear`, heard parts recorded), as a barge-in would. */
  cutPlayback(): void;
  metrics?: FastPathMetrics | undefined;
  logger: Logger;
  now: () => number;
}

export interface HoldHandle {
  /** Stops repeating; the copy playing is cut when the model's answer starts. Returns the text heard. */
  release(): string;
}

/** Silence between two plays of the hold prompt. */
export const HOLD_PAUSE_MS = 1500;
/** The next copy is queued this long before the one playing runs out. */
const HOLD_QUEUE_AHEAD_MS = 500;
const MULAW_SILENCE = 0xff;

export class CallPrompts {
  readonly #o: CallPromptsOptions;
  #streamStartMs: number | null = null;
  /** A released hold whose last copy may still play: cut when the next reply starts. */
  #draining: TurnRecord | null = null;

  constructor(options: CallPromptsOptions) {
    this.#o = options;
  }

  has(id: PromptId): boolean {
    return this.#o.prompts?.get(id) !== undefined;
  }

  /**
   * Twilio's stream started (a new call, not a resumed one): the cached greeting plays at once if there is
   * one. Returns whether it did (then the model must not be asked to greet).
   */
  streamStarted(receivedMs: number, greet: boolean): boolean {
    this.#streamStartMs = receivedMs;
    if (!greet) return false;
    return this.play("greeting") !== null;
  }

  /**
   * Plays a cached prompt as the whole reply of a turn: the current turn if its reply has not started,
   * else a new one. Returns that turn, or null when the prompt is not ready (or the turn's reply was cut).
   */
  play(id: PromptId): TurnRecord | null {
    const turn = this.#queue(id, true);
    if (turn) this.#o.pump();
    return turn;
  }

  /** The hold prompt, repeated after a pause until released; null when there is none. */
  hold(): HoldHandle | null {
    const prompt = this.#o.prompts?.get("hold");
    const turn = prompt ? this.#queue("hold", false) : null;
    if (!prompt || !turn) return null;
    this.#o.pump();
    const cycleMs = prompt.durationMs + HOLD_PAUSE_MS;
    const pause = new Uint8Array(HOLD_PAUSE_MS * MULAW_BYTES_PER_MS).fill(MULAW_SILENCE);
    let plays = 1;
    let timer: NodeJS.Timeout | null = null;
    const ours = () => this.#o.turns.current === turn && !turn.replyEnded && !turn.reply.signal.aborted;
    const queueNext = () => {
      timer = null;
      if (!ours()) return;
      this.#o.playback.addAudio(pause);
      this.#o.playback.addAudio(prompt.mulaw);
      plays++;
      this.#o.pump();
      timer = setTimeout(queueNext, cycleMs);
    };
    timer = setTimeout(queueNext, Math.max(FRAME_MS, prompt.durationMs - HOLD_QUEUE_AHEAD_MS));
    return {
      release: () => {
        if (timer) clearTimeout(timer);
        timer = null;
        if (ours()) {
          turn.replyEnded = true;
          this.#o.playback.endReply();
          this.#draining = turn;
          this.#o.pump();
        }
        this.#o.logger.info("hold released", { turnIndex: turn.index, plays });
        return prompt.text;
      },
    };
  }

  /** The model's reply is about to start: a released hold still playing is cut for it. */
  beforeModelReply(): void {
    const draining = this.#draining;
    this.#draining = null;
    if (draining && this.#o.turns.get(draining.index) && !draining.reply.signal.aborted)
      this.#o.cutPlayback();
  }

  /** A reply's first frame left: for the call's first turn, how long after `start` the greeting began. */
  firstFrameSent(turn: TurnRecord, sentMs: number): void {
    if (turn.index !== 0 || this.#streamStartMs === null || turn.timings.streamStartMs !== undefined) return;
    turn.timings.streamStartMs = this.#streamStartMs;
    const cached = turn.cachedPrompt === "greeting";
    const afterStartMs = sentMs - this.#streamStartMs;
    this.#o.metrics?.greetingFirstAudio(cached ? "cache" : "model", afterStartMs);
    this.#o.logger.info("greeting first audio", {
      source: cached ? "cache" : "model",
      afterStartMs: Math.round(afterStartMs * 100) / 100,
    });
  }

  #queue(id: PromptId, ended: boolean): TurnRecord | null {
    const prompt = this.#o.prompts?.get(id);
    if (!prompt) return null;
    const { turns, playback } = this.#o;
    // A prompt is a reply of its own: the reply under way (if any) ends where it is.
    const current = turns.current;
    if (current?.replyStarted && !current.replyEnded) {
      current.replyEnded = true;
      if (!current.reply.signal.aborted) playback.endReply();
    }
    const found = turns.replyTurn();
    if (!found) return null;
    const { turn } = found;
    turn.cachedPrompt = id;
    turn.plannedText.push(prompt.text);
    turn.spokenText.push(prompt.text);
    playback.startReply(turn.index);
    playback.addText(prompt.text);
    playback.addAudio(prompt.mulaw);
    if (ended) {
      turn.replyEnded = true;
      playback.endReply();
    }
    this.#o.logger.info("cached prompt", {
      prompt: id,
      turnIndex: turn.index,
      durationMs: prompt.durationMs,
    });
    return turn;
  }
}
