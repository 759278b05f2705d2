/**
 * Twilio-bound audio to the speaker: 8 kHz μ-law decoded by the shared codec and interpolated to the
 * AudioContext's rate by the shared polyphase resampler (its low-pass removes the images), as floats.
 * Pure; runs in the playback worklet.
 */
import { MULAW_SAMPLE_RATE_HZ, mulawToPcm16 } from "../../../shared/audio/mulaw.ts";
import { Resampler } from "../../../shared/audio/resample.ts";

export class PlaybackDecoder {
  readonly #resampler: Resampler;
  #wide = new Int16Array(0);

  constructor(outputRateHz: number) {
    this.#resampler = new Resampler(MULAW_SAMPLE_RATE_HZ, outputRateHz);
  }

  decode(mulaw: Uint8Array): Float32Array {
    const pcm = mulawToPcm16(mulaw);
    const needed = this.#resampler.outputLength(pcm.length);
    if (this.#wide.length < needed) this.#wide = new Int16Array(needed);
    const count = this.#resampler.process(pcm, this.#wide);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.#wide[i]! / 32768;
    return out;
  }

  /** After a clear: what was in the filter belonged to the reply that was cut. */
  reset(): void {
    this.#resampler.reset();
  }
}
