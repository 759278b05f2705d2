/**
 * The shell around the pure playback core for one call: one timer that ticks it when the next frame is
 * due, the Twilio `media` / `mark` / `clear` frames it decides on, and the far-end reference for the echo
 * guard (what the caller hears, and when).
 */
import { buildClear, buildMark, buildMedia } from "../shared/twilio-media.ts";
import type { CallerVoice } from "./caller-voice.ts";
import type { Playback } from "./playback.ts";
import type { EdgeLink } from "./server.ts";

export class CallPlayout {
  readonly #playback: Playback;
  readonly #link: EdgeLink;
  readonly #voice: CallerVoice;
  readonly #now: () => number;
  #streamSid: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #dueMs = 0;
  readonly #onLateTick: ((latenessMs: number) => void) | undefined;

  constructor(args: {
    playback: Playback;
    link: EdgeLink;
    voice: CallerVoice;
    now: () => number;
    /** Measurement hook: how late each timer-driven tick ran. */
    onLateTick?: (latenessMs: number) => void;
  }) {
    this.#playback = args.playback;
    this.#link = args.link;
    this.#voice = args.voice;
    this.#now = args.now;
    this.#onLateTick = args.onLateTick;
  }

  get streamSid(): string | null {
    return this.#streamSid;
  }

  /** Nothing goes to Twilio before its stream SID is known (from `start`, or any media frame on resume). */
  setStreamSid(streamSid: string): void {
    if (this.#streamSid === streamSid) return;
    this.#streamSid = streamSid;
    this.pump();
  }

  /** Releases what is due now and schedules the next tick; returns when the first frame left, if one did. */
  pump(): number | null {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const streamSid = this.#streamSid;
    if (!streamSid || this.#stopped) return null;
    const nowMs = this.#now();
    let firstFrameSentMs: number | null = null;
    const outputs = this.#playback.tick(nowMs);
    // The frames just released play after what was already buffered at Twilio.
    let playAtMs = nowMs + this.#playback.bufferedMs(nowMs);
    for (const output of outputs) if (output.kind === "media") playAtMs -= output.mulaw.length / 8;
    // Frames released together go as one Twilio message (any size plays in order); marks keep their place.
    // The echo guard still learns each 20 ms frame's level and play time.
    let pending: Uint8Array[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      const mulaw = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending = [];
      const payload = Buffer.from(mulaw.buffer, mulaw.byteOffset, mulaw.length).toString("base64");
      this.#link.send(buildMedia(streamSid, payload));
      firstFrameSentMs ??= this.#now();
    };
    for (const output of outputs) {
      if (output.kind === "mark") {
        flush();
        this.#link.send(buildMark(streamSid, output.name));
        continue;
      }
      pending.push(output.mulaw);
      this.#voice.farEnd(output.mulaw, playAtMs);
      playAtMs += output.mulaw.length / 8;
    }
    flush();
    const nextMs = this.#playback.nextTickMs();
    if (nextMs !== null) {
      this.#dueMs = nextMs;
      this.#timer = setTimeout(() => this.#tick(), Math.max(0, nextMs - this.#now()));
    }
    return firstFrameSentMs;
  }

  #tick(): void {
    this.#timer = null;
    this.#onLateTick?.(Math.max(0, this.#now() - this.#dueMs));
    this.pump();
  }

  /** Barge-in: Twilio drops what it buffered (and echoes the pending marks). Returns when, if sent. */
  clear(): number | null {
    if (!this.#streamSid || this.#stopped) return null;
    this.#link.send(buildClear(this.#streamSid));
    return this.#now();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
