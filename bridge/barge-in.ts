/**
 * Barge-in decisions, pure. Two sources cut a reply, whichever comes first:
 * - the model's own signal (textOutput `{ "interrupted" : true }` or contentEnd `INTERRUPTED`);
 * - the local VAD hearing the caller while the reply is playing. The VAD is echo-guarded upstream (its
 *   far-end reference is what we play); here we only require the speech to last `minSpeechMs` from its
 *   onset, so that a back-channel ("mm-hm", a cough) does not cut the agent off.
 *
 * The detector only decides; the call carries out the cut (abort the turn, Twilio `clear`, new playback
 * generation, record the heard portion) and then calls `reset()`.
 */

export interface BargeInOptions {
  vadEnabled: boolean;
  minSpeechMs: number;
}

export type BargeInDecision =
  | { cut: false }
  | {
      cut: true;
      by: "model" | "vad";
      /** Caller speech onset (local VAD) if known, else the model signal's arrival. */
      onsetMs: number;
      decidedMs: number;
    };

const NO_CUT: BargeInDecision = { cut: false };

export class BargeInDetector {
  readonly #options: BargeInOptions;
  /** Onset of the caller speech in progress (local VAD), or null during silence. */
  #speechOnsetMs: number | null = null;
  /** Since when that speech has overlapped playback; null while it has not. */
  #overlapSinceMs: number | null = null;
  /** The speech in progress already caused a cut: it cannot cut again until the caller pauses. */
  #spent = false;

  constructor(options: BargeInOptions) {
    this.#options = options;
  }

  /** The caller is speaking (and since when), by the local VAD. */
  get speechOnsetMs(): number | null {
    return this.#speechOnsetMs;
  }

  speechOnset(atMs: number, playing: boolean): BargeInDecision {
    this.#speechOnsetMs = atMs;
    this.#overlapSinceMs = playing ? atMs : null;
    this.#spent = false;
    return this.#check(atMs);
  }

  speechOffset(): void {
    this.#speechOnsetMs = null;
    this.#overlapSinceMs = null;
    this.#spent = false;
  }

  /** Time passes (each inbound frame): speech that has overlapped playback long enough cuts. */
  advance(nowMs: number, playing: boolean): BargeInDecision {
    if (!playing) this.#overlapSinceMs = null;
    else if (this.#speechOnsetMs !== null && this.#overlapSinceMs === null) this.#overlapSinceMs = nowMs;
    return this.#check(nowMs);
  }

  /** The model says the caller interrupted it; `replyActive` = a reply is queued or playing. */
  modelInterrupted(nowMs: number, replyActive: boolean): BargeInDecision {
    if (!replyActive) return NO_CUT;
    const onsetMs = this.#speechOnsetMs ?? nowMs;
    return { cut: true, by: "model", onsetMs: Math.min(onsetMs, nowMs), decidedMs: nowMs };
  }

  /** After a cut: the speech in progress has done its work and must not cut the next reply. */
  reset(): void {
    this.#overlapSinceMs = null;
    this.#spent = this.#speechOnsetMs !== null;
  }

  #check(nowMs: number): BargeInDecision {
    const sinceMs = this.#overlapSinceMs;
    if (!this.#options.vadEnabled || this.#spent || sinceMs === null || this.#speechOnsetMs === null) {
      return NO_CUT;
    }
    if (nowMs - sinceMs < this.#options.minSpeechMs) return NO_CUT;
    return { cut: true, by: "vad", onsetMs: sinceMs, decidedMs: nowMs };
  }
}
