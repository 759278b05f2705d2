/**
 * Barge-in decisions, pure. Two sources cut a reply, whichever comes first:
 * - the model's own signal (textOutput `{ "interrupted" : true }` or contentEnd `INTERRUPTED`);
 * - the local VAD hearing the caller while the reply is playing. The VAD (shared/audio/vad.ts) is
 *   echo-guarded (its far-end reference is what we play) and confirms a segment only once it has held
 *   `minSpeechMs` of active speech, so that a back-channel ("mm-hm", "uh-huh") or a cough does not cut the
 *   agent off. A confirmed segment cuts at once if the reply is playing; if the reply starts while the
 *   caller is already talking, the overlap must itself last `minSpeechMs`.
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
  /** The segment in progress has held enough speech to be a turn, not a back-channel. */
  #confirmed = false;
  /** Since when confirmed speech has overlapped playback (when it began before the reply). */
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

  speechOnset(onsetMs: number): void {
    this.#speechOnsetMs = onsetMs;
    this.#confirmed = false;
    this.#overlapSinceMs = null;
    this.#spent = false;
  }

  /** The VAD confirmed the segment (minimum speech held); cuts at once if the reply is playing. */
  speechConfirmed(atMs: number, playing: boolean): BargeInDecision {
    this.#speechOnsetMs ??= atMs;
    this.#confirmed = true;
    if (!this.#options.vadEnabled || this.#spent || !playing) return NO_CUT;
    return { cut: true, by: "vad", onsetMs: this.#speechOnsetMs, decidedMs: atMs };
  }

  speechOffset(): void {
    this.#speechOnsetMs = null;
    this.#confirmed = false;
    this.#overlapSinceMs = null;
    this.#spent = false;
  }

  /** Time passes (each inbound frame): confirmed speech that has overlapped playback long enough cuts. */
  advance(nowMs: number, playing: boolean): BargeInDecision {
    if (!playing || !this.#confirmed) {
      this.#overlapSinceMs = null;
      return NO_CUT;
    }
    this.#overlapSinceMs ??= nowMs;
    if (!this.#options.vadEnabled || this.#spent) return NO_CUT;
    if (nowMs - this.#overlapSinceMs < this.#options.minSpeechMs) return NO_CUT;
    return { cut: true, by: "vad", onsetMs: this.#overlapSinceMs, decidedMs: nowMs };
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
}
