/**
 * The caller's input on its way to the model, between sessions: what waits for the next session (held
 * while none is in use, kept from one that failed to start, or replayed), and the last seconds of the
 * caller's audio as sent (base64 audioInput contents with their arrival times), so that speech a session
 * never answered can be given again to the session that takes over.
 */
import type { SlotInput } from "./session-slot.ts";

/** Audio kept at most: longer than any turn a caller speaks before the model answers. */
export const RECENT_AUDIO_MS = 20_000;
/** Audio kept before the onset of the speech it may replay (the VAD notices speech a little late). */
export const REPLAY_PRE_ROLL_MS = 200;
/** Inputs held while no session is in use (retry backoff); the oldest go beyond this. */
export const MAX_HELD_INPUTS = 3000;
/** Dropped entries (a few bytes each once their audio is let go) are compacted away past this many. */
const COMPACT_AFTER_ENTRIES = 256;

export function pcmBytesOfBase64(base64: string): number {
  const padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

export class SessionInputs {
  readonly #keepMs: number;
  #times: number[] = [];
  #chunks: string[] = [];
  #head = 0;
  #held: SlotInput[] = [];

  constructor(keepMs = RECENT_AUDIO_MS) {
    this.#keepMs = keepMs;
  }

  /**
   * Caller audio as it is sent to the model (or held). Only what a replay may need is kept: the audio since
   * `speechOnsetMs` (unanswered speech; null: none) and a short pre-roll, never more than the window.
   */
  recordAudio(base64: string, atMs: number, speechOnsetMs: number | null): void {
    this.#times.push(atMs);
    this.#chunks.push(base64);
    const keepFromMs = Math.max(atMs - this.#keepMs, (speechOnsetMs ?? atMs) - REPLAY_PRE_ROLL_MS);
    while (this.#head < this.#times.length && this.#times[this.#head]! < keepFromMs) {
      this.#chunks[this.#head++] = ""; // let the audio go now, not when the arrays are next compacted
    }
    if (this.#head > COMPACT_AFTER_ENTRIES && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Holds an input for the next session (none is in use). */
  hold(input: SlotInput): void {
    this.#held.push(input);
    if (this.#held.length > MAX_HELD_INPUTS) this.#held.shift();
  }

  /** Inputs that go to the next session before anything held since (a failed start's, in order). */
  holdFirst(inputs: readonly SlotInput[]): void {
    this.#held = [...inputs, ...this.#held];
  }

  /**
   * Holds the caller's audio since `onsetMs` (and its pre-roll) first, for the session about to take over;
   * returns its PCM bytes.
   */
  replaySince(onsetMs: number): number {
    const chunks: string[] = [];
    let bytes = 0;
    for (let i = this.#head; i < this.#times.length; i++) {
      if (this.#times[i]! < onsetMs - REPLAY_PRE_ROLL_MS) continue;
      const base64 = this.#chunks[i]!;
      chunks.push(base64);
      bytes += pcmBytesOfBase64(base64);
    }
    this.holdFirst(chunks.map((base64): SlotInput => ({ kind: "audio", base64 })));
    return bytes;
  }

  /** Everything held, in order; nothing is held afterwards. */
  takeHeld(): SlotInput[] {
    const held = this.#held;
    this.#held = [];
    return held;
  }
}
