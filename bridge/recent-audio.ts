/**
 * The caller's last seconds of audio as sent to the model (base64 audioInput contents with their arrival
 * times), so that speech a session never answered can be given again to the session that takes over.
 */

/** Audio kept: longer than any turn a caller speaks before the model answers. */
export const RECENT_AUDIO_MS = 20_000;

export class RecentAudio {
  readonly #keepMs: number;
  #times: number[] = [];
  #chunks: string[] = [];
  #head = 0;

  constructor(keepMs = RECENT_AUDIO_MS) {
    this.#keepMs = keepMs;
  }

  push(base64: string, atMs: number): void {
    this.#times.push(atMs);
    this.#chunks.push(base64);
    while (this.#head < this.#times.length && atMs - this.#times[this.#head]! > this.#keepMs) this.#head++;
    if (this.#head > 1024) {
      this.#times = this.#times.slice(this.#head);
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The chunks that arrived at or after `fromMs` (minus one frame: an onset falls inside a frame), in order. */
  since(fromMs: number): string[] {
    const out: string[] = [];
    for (let i = this.#head; i < this.#times.length; i++) {
      if (this.#times[i]! >= fromMs) out.push(this.#chunks[i]!);
    }
    return out;
  }
}
