/**
 * Microphone audio to Twilio's format: float samples at the AudioContext's rate, low-pass filtered and
 * decimated to 8 kHz by the shared polyphase resampler (state carried across blocks), μ-law coded by the
 * shared codec, cut into 20 ms frames of 160 bytes. Pure; runs in the capture worklet.
 */
import { MULAW_FRAME_BYTES, MULAW_SAMPLE_RATE_HZ, pcm16ToMulaw } from "../../../shared/audio/mulaw.ts";
import { Resampler } from "../../../shared/audio/resample.ts";

/** Float [-1, 1] to 16-bit, rounded and clipped. */
export function floatToPcm16(input: Float32Array, out: Int16Array): void {
  for (let i = 0; i < input.length; i++) {
    const scaled = Math.round(input[i]! * 32767);
    out[i] = Math.min(32767, Math.max(-32768, scaled));
  }
}

export class CaptureEncoder {
  readonly #resampler: Resampler;
  #pcm = new Int16Array(0);
  #narrow = new Int16Array(0);
  readonly #frame = new Int16Array(MULAW_FRAME_BYTES);
  #filled = 0;
  /** When muted the caller sends silence: Twilio keeps sending frames whatever the line carries. */
  muted = false;

  constructor(inputRateHz: number) {
    this.#resampler = new Resampler(inputRateHz, MULAW_SAMPLE_RATE_HZ);
  }

  /** Adds one block of microphone samples; returns the 20 ms μ-law frames it completed. */
  push(block: Float32Array): Uint8Array[] {
    if (this.#pcm.length < block.length) this.#pcm = new Int16Array(block.length);
    const pcm = this.#pcm.subarray(0, block.length);
    if (this.muted) pcm.fill(0);
    else floatToPcm16(block, pcm);
    const needed = this.#resampler.outputLength(pcm.length);
    if (this.#narrow.length < needed) this.#narrow = new Int16Array(needed);
    const count = this.#resampler.process(pcm, this.#narrow);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      this.#frame[this.#filled++] = this.#narrow[i]!;
      if (this.#filled === MULAW_FRAME_BYTES) {
        frames.push(pcm16ToMulaw(this.#frame));
        this.#filled = 0;
      }
    }
    return frames;
  }
}
