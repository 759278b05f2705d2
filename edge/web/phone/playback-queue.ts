/**
 * The softphone's playback buffer, as Twilio's behaves (REFERENCE.md §1): audio plays in the order it
 * arrived, a mark is echoed once the audio queued before it has played (at once when nothing is queued),
 * and `clear` drops the queued audio and echoes every pending mark. Pure: the audio thread calls
 * `render` for each block it plays, so "played" means handed to the speaker.
 */

interface PendingMark {
  name: string;
  /** The mark falls due when this many samples have played. */
  atSample: number;
}

export interface RenderResult {
  /** Samples of queued audio written into the block (the rest is silence). */
  audioSamples: number;
  /** Marks now due, in order. */
  marks: readonly string[];
}

const NO_MARKS: readonly string[] = Object.freeze([]);

export class PlaybackQueue {
  readonly #chunks: Float32Array[] = [];
  /** Read position inside the first chunk. */
  #offset = 0;
  #queuedSamples = 0;
  #playedSamples = 0;
  readonly #marks: PendingMark[] = [];

  /** Samples queued and not yet played. */
  get bufferedSamples(): number {
    return this.#queuedSamples - this.#playedSamples;
  }

  get playedSamples(): number {
    return this.#playedSamples;
  }

  enqueue(samples: Float32Array): void {
    if (samples.length === 0) return;
    this.#chunks.push(samples);
    this.#queuedSamples += samples.length;
  }

  /** Queues a mark; returns the marks due at once (this one too when nothing is queued). */
  mark(name: string): readonly string[] {
    this.#marks.push({ name, atSample: this.#queuedSamples });
    return this.#dueMarks();
  }

  /** Drops the queued audio; returns every pending mark, in order. */
  clear(): string[] {
    this.#chunks.length = 0;
    this.#offset = 0;
    this.#queuedSamples = this.#playedSamples;
    const names = this.#marks.map((mark) => mark.name);
    this.#marks.length = 0;
    return names;
  }

  /** Fills `out` with the next queued samples (silence after them); returns what played and fell due. */
  render(out: Float32Array): RenderResult {
    let written = 0;
    while (written < out.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!;
      const count = Math.min(out.length - written, chunk.length - this.#offset);
      out.set(chunk.subarray(this.#offset, this.#offset + count), written);
      written += count;
      this.#offset += count;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    out.fill(0, written);
    this.#playedSamples += written;
    return { audioSamples: written, marks: this.#dueMarks() };
  }

  #dueMarks(): readonly string[] {
    let due = 0;
    while (due < this.#marks.length && this.#marks[due]!.atSample <= this.#playedSamples) due++;
    if (due === 0) return NO_MARKS;
    return this.#marks.splice(0, due).map((mark) => mark.name);
  }
}
