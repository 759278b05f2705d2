/**
 * Twilio's outbound playback buffer, emulated: media frames queue up and play out in real time, a mark
 * is echoed when the audio queued before it has played (at once if nothing is queued), and `clear`
 * empties the buffer and echoes every pending mark (REFERENCE.md §1). Pure: the caller passes the clock.
 */
import { MULAW_BYTES_PER_MS } from "../../shared/audio/mulaw.ts";

export interface PlayedAudio {
  /** When these bytes started playing, on the caller's clock. */
  startMs: number;
  bytes: Uint8Array;
}

interface QueuedSegment {
  startMs: number;
  endMs: number;
  bytes: Uint8Array;
  /** Bytes of this segment already reported as played. */
  playedBytes: number;
}

interface PendingMark {
  name: string;
  dueMs: number;
}

export interface BufferEvents {
  /** Audio that finished playing since the last call, in order. */
  played: PlayedAudio[];
  /** Marks to echo now, in order. */
  marks: string[];
}

export class PlaybackBuffer {
  readonly #segments: QueuedSegment[] = [];
  readonly #marks: PendingMark[] = [];
  #queueEndMs = 0;
  /** Gaps where the buffer ran dry between two pieces of audio: [startMs, endMs]. */
  readonly gaps: Array<[number, number]> = [];
  #lastAudioEndMs: number | null = null;

  /** Queues audio at `nowMs`; it plays after whatever is queued, or at once. */
  enqueue(bytes: Uint8Array, nowMs: number): void {
    if (bytes.length === 0) return;
    const startMs = Math.max(nowMs, this.#queueEndMs);
    if (this.#lastAudioEndMs !== null && startMs > this.#lastAudioEndMs) {
      this.gaps.push([this.#lastAudioEndMs, startMs]);
    }
    const endMs = startMs + bytes.length / MULAW_BYTES_PER_MS;
    this.#segments.push({ startMs, endMs, bytes, playedBytes: 0 });
    this.#queueEndMs = endMs;
    this.#lastAudioEndMs = endMs;
  }

  /** Queues a mark: echoed once the audio before it has played. */
  mark(name: string, nowMs: number): void {
    this.#marks.push({ name, dueMs: Math.max(nowMs, this.#queueEndMs) });
  }

  /** Empties the buffer (audio played until `nowMs` stays played) and echoes every pending mark. */
  clear(nowMs: number): BufferEvents {
    const events = this.advance(nowMs);
    this.#segments.length = 0;
    this.#queueEndMs = nowMs;
    this.#lastAudioEndMs = null;
    for (const mark of this.#marks) events.marks.push(mark.name);
    this.#marks.length = 0;
    return events;
  }

  /** Moves the play-out to `nowMs`: returns the audio played and the marks due since the last call. */
  advance(nowMs: number): BufferEvents {
    const played: PlayedAudio[] = [];
    while (this.#segments.length > 0) {
      const segment = this.#segments[0]!;
      if (segment.startMs >= nowMs) break;
      const playedUntilBytes = Math.min(
        segment.bytes.length,
        Math.floor((nowMs - segment.startMs) * MULAW_BYTES_PER_MS),
      );
      if (playedUntilBytes > segment.playedBytes) {
        played.push({
          startMs: segment.startMs + segment.playedBytes / MULAW_BYTES_PER_MS,
          bytes: segment.bytes.subarray(segment.playedBytes, playedUntilBytes),
        });
        segment.playedBytes = playedUntilBytes;
      }
      if (segment.playedBytes < segment.bytes.length) break;
      this.#segments.shift();
    }
    const marks: string[] = [];
    while (this.#marks.length > 0 && this.#marks[0]!.dueMs <= nowMs) marks.push(this.#marks.shift()!.name);
    return { played, marks };
  }

  /** Milliseconds of audio queued and not yet played at `nowMs`. */
  bufferedMs(nowMs: number): number {
    return Math.max(0, this.#queueEndMs - nowMs);
  }

  /** The earliest time at which something happens (a mark falls due, or the queue drains). */
  nextEventMs(): number | null {
    const mark = this.#marks[0]?.dueMs ?? null;
    const drain = this.#segments.length > 0 ? this.#queueEndMs : null;
    if (mark === null) return drain;
    if (drain === null) return mark;
    return Math.min(mark, drain);
  }
}
