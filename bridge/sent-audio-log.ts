/**
 * When each of the caller's recent frames left the bridge as `audioInput`, so that a turn's record can say
 * when the audio holding the caller's last speech was sent (not when the model's transcript came back).
 * Pure: a fixed ring of (received, sent) times, newest last.
 */
const CAPACITY = 256; // 5 s of 20 ms frames: longer than the VAD's hangover and any audioInput gathering

export class SentAudioLog {
  readonly #receivedMs = new Float64Array(CAPACITY);
  readonly #sentMs = new Float64Array(CAPACITY);
  #count = 0;
  /** Frames received but not yet sent (audioInput gathering several frames). */
  #pending: number[] = [];

  /** A frame arrived from the caller at `receivedMs`. */
  received(receivedMs: number): void {
    this.#pending.push(receivedMs);
  }

  /** Every frame received so far left the bridge at `sentMs`. */
  sent(sentMs: number): void {
    for (const receivedMs of this.#pending) {
      const slot = this.#count % CAPACITY;
      this.#receivedMs[slot] = receivedMs;
      this.#sentMs[slot] = sentMs;
      this.#count += 1;
    }
    this.#pending = [];
  }

  /**
   * When the frame holding the audio at `audioEndMs` (a wall-clock estimate of the end of speech) was sent:
   * the first frame received at or after it. Null when that frame has not been sent or is too old.
   */
  sentAtFor(audioEndMs: number): number | null {
    const oldest = Math.max(0, this.#count - CAPACITY);
    let found: number | null = null;
    for (let index = this.#count - 1; index >= oldest; index--) {
      const slot = index % CAPACITY;
      if (this.#receivedMs[slot]! < audioEndMs) break;
      found = this.#sentMs[slot]!;
    }
    return found;
  }
}
