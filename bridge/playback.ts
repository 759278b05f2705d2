/**
 * Paced playback towards Twilio, pure: the shell feeds model audio (8 kHz μ-law) and calls `tick(nowMs)`
 * from a timer; this core decides which 20 ms frames and marks go out now.
 *
 * Pacing. Twilio plays what it receives in real time and buffers the rest, so audio pushed far ahead makes
 * barge-in slow (REFERENCE §4). We keep an estimate of when Twilio's buffer runs dry (`#playEndMs`) and
 * release a frame only while no more than `leadMs` would be buffered after it: a burst of `leadMs` at the
 * start of a reply, then `framesPerRelease` frames every `framesPerRelease × 20` ms. Timer lateness up to
 * `leadMs - framesPerRelease × 20` causes no underrun.
 *
 * Marks. Every `markEveryFrames` frames, and after a reply's last frame, a mark named `g<gen>:t<turn>:f<n>`
 * goes out: playback generation, turn index, frames of that reply before the mark. `interrupt()` (which the
 * shell follows with a Twilio `clear`) bumps the generation, so the marks Twilio echoes on `clear` are known
 * to be stale. A reply is played out when its last mark comes back in the current generation.
 *
 * Heard portion. Replies carry text segments (the ASSISTANT SPECULATIVE texts, each placed where the audio
 * that follows it starts); what the caller heard is the audio up to the play-out point, and the text of
 * segments fully played plus the words of a partly played segment in proportion.
 */
import { FRAME_MS, MULAW_BYTES_PER_MS, MULAW_FRAME_BYTES } from "../shared/audio/mulaw.ts";
import { heardText, type Segment } from "./heard-text.ts";

export interface PlaybackOptions {
  leadMs: number;
  /** A progress mark every this many frames (5 = 100 ms). */
  markEveryFrames?: number;
  /**
   * Frames released together once the reply's first burst is out (1 = a tick every 20 ms; 2 = a tick every
   * 40 ms releasing two frames, which the shell sends as one Twilio message). Capped so that at least one
   * frame of the lead is always buffered at Twilio when a tick is due.
   */
  framesPerRelease?: number;
}

export type PlaybackOutput = { kind: "media"; mulaw: Uint8Array } | { kind: "mark"; name: string };

export interface PlayoutReport {
  turnIndex: number;
  /** Audio the model produced for the reply (before any cut). */
  replyMs: number;
  /** Audio sent towards Twilio. */
  sentMs: number;
  /** Audio the caller heard: the pacing clock's estimate, never below what marks confirmed. */
  heardMs: number;
  heardText: string;
  /** All segment text of the reply. */
  text: string;
  interrupted: boolean;
}

export type MarkResult =
  | { kind: "stale" }
  | { kind: "progress"; turnIndex: number; confirmedMs: number }
  | { kind: "played-out"; report: PlayoutReport };

interface Reply {
  turnIndex: number;
  /** The reply's audio, kept until it has played out (a hold rewinds into it). */
  chunks: Uint8Array[];
  /** Where the next frame is read: chunks[chunkIndex] at chunkOffset. */
  chunkIndex: number;
  chunkOffset: number;
  queuedBytes: number;
  sentBytes: number;
  sentFrames: number;
  confirmedBytes: number;
  segments: Segment[];
  /** No more audio will come (the model ended its turn). */
  ended: boolean;
  finalMarkFrames: number | null;
  /** The caller's clock when the last frame sent so far will have finished playing. */
  lastFramePlayEndMs: number;
}

export class Playback {
  readonly #leadMs: number;
  readonly #markEveryFrames: number;
  readonly #releaseMs: number;
  #generation = 0;
  #playEndMs = Number.NEGATIVE_INFINITY;
  /** Replies not yet played out, oldest first; the first with unsent audio is the one being sent. */
  #replies: Reply[] = [];
  #underruns = 0;
  /** The previous tick left audio it could have sent later (so a dry buffer now is our lateness). */
  #heldAudio = false;
  /** The caller is speaking over the reply: nothing is released until resume() or interrupt(). */
  #held = false;

  constructor(options: PlaybackOptions) {
    this.#leadMs = Math.max(FRAME_MS, options.leadMs);
    this.#markEveryFrames = Math.max(1, options.markEveryFrames ?? 5);
    const maxFrames = Math.max(1, Math.floor(this.#leadMs / FRAME_MS) - 1);
    this.#releaseMs = Math.min(maxFrames, Math.max(1, Math.floor(options.framesPerRelease ?? 1))) * FRAME_MS;
  }

  get generation(): number {
    return this.#generation;
  }
  /** Times Twilio's buffer ran dry while we held audio for it (a pacing fault, not a slow model). */
  get underruns(): number {
    return this.#underruns;
  }

  /** Starts a reply; audio, text and the end that follow belong to it. */
  startReply(turnIndex: number): void {
    this.endReply();
    this.#replies.push({
      turnIndex,
      chunks: [],
      chunkIndex: 0,
      chunkOffset: 0,
      queuedBytes: 0,
      sentBytes: 0,
      sentFrames: 0,
      confirmedBytes: 0,
      segments: [],
      ended: false,
      finalMarkFrames: null,
      lastFramePlayEndMs: 0,
    });
  }

  /** A text segment of the current reply: the audio added after it speaks this text. */
  addText(text: string): void {
    const reply = this.#current();
    if (reply && !reply.ended) reply.segments.push({ text, startByte: reply.queuedBytes });
  }

  addAudio(mulaw: Uint8Array): void {
    const reply = this.#current();
    if (!reply || reply.ended || mulaw.length === 0) return;
    reply.chunks.push(mulaw);
    reply.queuedBytes += mulaw.length;
  }

  /** No more audio for the current reply; its last (possibly short) frame and final mark go out. */
  endReply(): void {
    const reply = this.#current();
    if (reply) reply.ended = true;
  }

  tick(nowMs: number): PlaybackOutput[] {
    const out: PlaybackOutput[] = [];
    if (this.#held) return out;
    if (this.#heldAudio && this.#playEndMs < nowMs) this.#underruns++;
    this.#heldAudio = false;
    for (const reply of this.#replies) {
      if (reply.finalMarkFrames !== null) continue;
      while (this.#canRelease(reply, nowMs)) {
        const frame = this.#takeFrame(reply);
        out.push({ kind: "media", mulaw: frame });
        this.#playEndMs = Math.max(this.#playEndMs, nowMs) + frame.length / MULAW_BYTES_PER_MS;
        reply.lastFramePlayEndMs = this.#playEndMs;
        reply.sentBytes += frame.length;
        reply.sentFrames++;
        if (reply.sentFrames % this.#markEveryFrames === 0 && !this.#allSent(reply)) {
          out.push({ kind: "mark", name: this.#markName(reply) });
        }
      }
      if (this.#allSent(reply)) {
        reply.finalMarkFrames = reply.sentFrames;
        out.push({ kind: "mark", name: this.#markName(reply) });
        continue;
      }
      const pending = reply.queuedBytes - reply.sentBytes;
      this.#heldAudio = pending >= MULAW_FRAME_BYTES || (reply.ended && pending > 0);
      break; // later replies wait until this one is sent
    }
    return out;
  }

  /** When `tick` has something to do next; null when waiting for audio (or idle). */
  nextTickMs(): number | null {
    if (this.#held) return null;
    for (const reply of this.#replies) {
      if (reply.finalMarkFrames !== null) continue;
      const pending = reply.queuedBytes - reply.sentBytes;
      if (pending >= MULAW_FRAME_BYTES || (reply.ended && pending >= 0)) {
        // When the buffer has room for a release (or for what is left, which may be less).
        const releaseMs = Math.max(FRAME_MS, Math.min(this.#releaseMs, pending / MULAW_BYTES_PER_MS));
        return this.#playEndMs + releaseMs - this.#leadMs;
      }
      return null;
    }
    return null;
  }

  onMark(name: string): MarkResult {
    const match = /^g(\d+):t(\d+):f(\d+)$/.exec(name);
    if (!match || Number(match[1]) !== this.#generation) return { kind: "stale" };
    const turnIndex = Number(match[2]);
    const frames = Number(match[3]);
    const index = this.#replies.findIndex((reply) => reply.turnIndex === turnIndex);
    const reply = this.#replies[index];
    if (!reply) return { kind: "stale" };
    reply.confirmedBytes = Math.max(
      reply.confirmedBytes,
      Math.min(reply.sentBytes, frames * MULAW_FRAME_BYTES),
    );
    if (reply.finalMarkFrames !== null && frames >= reply.finalMarkFrames) {
      this.#replies.splice(index, 1);
      return { kind: "played-out", report: this.#report(reply, reply.sentBytes, false) };
    }
    return { kind: "progress", turnIndex, confirmedMs: reply.confirmedBytes / MULAW_BYTES_PER_MS };
  }

  /**
   * Barge-in: drops every queued reply, bumps the generation and reports what each reply's caller heard.
   * `clear` tells the shell whether Twilio may still hold audio (then it sends a Twilio `clear`).
   */
  interrupt(nowMs: number): { reports: PlayoutReport[]; clear: boolean } {
    // After a hold nothing of ours is left at Twilio (it was cleared then).
    const clear = !this.#held && this.#replies.some((reply) => reply.sentBytes > 0);
    const reports = this.#replies.map((reply) => this.#report(reply, this.#heardBytes(reply, nowMs), true));
    this.#replies = [];
    this.#held = false;
    this.#heldAudio = false;
    this.#generation++;
    this.#playEndMs = Math.min(this.#playEndMs, nowMs);
    return { reports, clear };
  }

  /**
   * The caller started speaking over the reply: stop it where the caller is now (by the pacing clock),
   * without giving it up. What was sent and not yet heard is taken back (sending resumes at the last whole
   * frame heard), the generation bumps (marks the `clear` echoes are stale), and nothing goes out until
   * `resume()` (the speech was a back-channel) or `interrupt()` (it was a barge-in). `clear` tells the
   * shell whether Twilio may hold audio of ours (then it sends a Twilio `clear`).
   */
  hold(nowMs: number): { clear: boolean } {
    if (this.#held || this.#replies.length === 0) return { clear: false };
    const clear = this.#replies.some((reply) => reply.sentBytes > 0);
    for (const reply of this.#replies) {
      const heardBytes = this.#heardBytes(reply, nowMs);
      const heardAll = reply.ended && heardBytes >= reply.queuedBytes;
      this.#rewind(
        reply,
        heardAll ? reply.queuedBytes : Math.floor(heardBytes / MULAW_FRAME_BYTES) * MULAW_FRAME_BYTES,
      );
      reply.confirmedBytes = Math.min(heardBytes, reply.queuedBytes); // heard, even if resent on resume
      reply.lastFramePlayEndMs = Math.min(reply.lastFramePlayEndMs, nowMs);
    }
    this.#held = true;
    this.#heldAudio = false;
    this.#generation++;
    this.#playEndMs = Math.min(this.#playEndMs, nowMs);
    return { clear };
  }

  /** The caller's speech was no barge-in: the reply carries on where the caller stopped hearing it. */
  resume(): void {
    this.#held = false;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Whether the caller is hearing a reply now, by the pacing clock, or would be but for a hold. */
  isPlaying(nowMs: number): boolean {
    return (
      this.#playEndMs > nowMs ||
      (this.#held && this.#replies.length > 0) ||
      this.#replies.some((reply) => reply.sentBytes > 0 && reply.sentBytes < reply.queuedBytes)
    );
  }

  /** Whether a reply has started and has not yet been played out (or cut). */
  hasReply(): boolean {
    return this.#replies.length > 0;
  }

  /** Milliseconds of audio sent and, by the pacing clock, not yet played. */
  bufferedMs(nowMs: number): number {
    return Math.max(0, this.#playEndMs - nowMs);
  }

  /** What the caller has heard of `reply` by `nowMs`: audio still in Twilio's buffer is not heard yet. */
  #heardBytes(reply: Reply, nowMs: number): number {
    const bufferedBytes = Math.max(0, this.#playEndMs - nowMs) * MULAW_BYTES_PER_MS;
    // Audio still in Twilio's buffer at nowMs belongs to the replies whose frames finish after nowMs.
    const unplayed = Math.min(
      reply.sentBytes,
      Math.max(0, reply.lastFramePlayEndMs - nowMs) * MULAW_BYTES_PER_MS,
      bufferedBytes,
    );
    return Math.max(reply.confirmedBytes, Math.round(reply.sentBytes - unplayed));
  }

  #current(): Reply | undefined {
    return this.#replies[this.#replies.length - 1];
  }

  #allSent(reply: Reply): boolean {
    return reply.ended && reply.sentBytes === reply.queuedBytes;
  }

  #canRelease(reply: Reply, nowMs: number): boolean {
    const pending = reply.queuedBytes - reply.sentBytes;
    if (pending < MULAW_FRAME_BYTES && !(reply.ended && pending > 0)) return false;
    return Math.max(this.#playEndMs, nowMs) + FRAME_MS - nowMs <= this.#leadMs;
  }

  #takeFrame(reply: Reply): Uint8Array {
    const size = Math.min(MULAW_FRAME_BYTES, reply.queuedBytes - reply.sentBytes);
    const head = reply.chunks[reply.chunkIndex]!;
    if (head.length - reply.chunkOffset >= size) {
      const frame = head.subarray(reply.chunkOffset, reply.chunkOffset + size);
      reply.chunkOffset += size;
      if (reply.chunkOffset === head.length) {
        reply.chunkIndex++;
        reply.chunkOffset = 0;
      }
      return frame;
    }
    const frame = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = reply.chunks[reply.chunkIndex]!;
      const take = Math.min(size - filled, chunk.length - reply.chunkOffset);
      frame.set(chunk.subarray(reply.chunkOffset, reply.chunkOffset + take), filled);
      filled += take;
      reply.chunkOffset += take;
      if (reply.chunkOffset === chunk.length) {
        reply.chunkIndex++;
        reply.chunkOffset = 0;
      }
    }
    return frame;
  }

  /** Sending resumes at `bytes` into the reply (a frame boundary, or its end). */
  #rewind(reply: Reply, bytes: number): void {
    reply.sentBytes = bytes;
    reply.sentFrames = Math.ceil(bytes / MULAW_FRAME_BYTES);
    reply.finalMarkFrames = null;
    let index = 0;
    let offset = bytes;
    while (index < reply.chunks.length && offset >= reply.chunks[index]!.length) {
      offset -= reply.chunks[index]!.length;
      index++;
    }
    reply.chunkIndex = index;
    reply.chunkOffset = offset;
  }

  #markName(reply: Reply): string {
    return `g${this.#generation}:t${reply.turnIndex}:f${reply.sentFrames}`;
  }

  #report(reply: Reply, heardBytes: number, interrupted: boolean): PlayoutReport {
    return {
      turnIndex: reply.turnIndex,
      replyMs: reply.queuedBytes / MULAW_BYTES_PER_MS,
      sentMs: reply.sentBytes / MULAW_BYTES_PER_MS,
      heardMs: heardBytes / MULAW_BYTES_PER_MS,
      heardText: heardText(reply.segments, reply.queuedBytes, heardBytes),
      text: reply.segments.map((segment) => segment.text.trim()).join(" "),
      interrupted,
    };
  }
}
