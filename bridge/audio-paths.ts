/**
 * The two audio conversions of a call, each with its own carried state (resampler history), pure:
 * - uplink: Twilio's base64 8 kHz μ-law → 16-bit PCM at the model's input rate, gathered and handed over
 *   as base64 audioInput content; it also hands back the 8 kHz PCM for the local VAD;
 * - downlink: the model's 16-bit PCM at its output rate → 8 kHz μ-law for Twilio.
 * Node-only (Buffer does the base64 work, several times faster than a JS loop).
 */
import { MULAW_SAMPLE_RATE_HZ, mulawToPcm16Into, pcm16ToMulawInto } from "../shared/audio/mulaw.ts";
import { Resampler } from "../shared/audio/resample.ts";
import { AppError } from "../shared/errors.ts";

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian 16-bit PCM bytes of `samples` (a view when the host is little-endian, as x86 and ARM are). */
function pcm16LittleEndianBytes(samples: Int16Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
  return out;
}

/** Samples of little-endian 16-bit PCM bytes (copies only when unaligned or on a big-endian host). */
export function pcm16FromLittleEndianBytes(bytes: Uint8Array): Int16Array {
  if (bytes.length % 2 !== 0)
    throw new AppError("bad_frame", `PCM16 audio has an odd length (${bytes.length})`);
  if (HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  }
  const out = new Int16Array(bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/**
 * Caller audio on its way to the model: each Twilio frame is decoded (8 kHz PCM for the VAD) and converted
 * to the model's input rate; `take()` hands over what has gathered as one audioInput's content.
 */
export class Uplink {
  readonly #resampler: Resampler | null;
  #gathered: Uint8Array[] = [];

  constructor(modelInputRateHz: number) {
    this.#resampler =
      modelInputRateHz === MULAW_SAMPLE_RATE_HZ
        ? null
        : new Resampler(MULAW_SAMPLE_RATE_HZ, modelInputRateHz);
  }

  /** Frames gathered and not yet taken. */
  get gatheredFrames(): number {
    return this.#gathered.length;
  }

  /** One Twilio media payload (base64 μ-law): gathered for the model; returns its 8 kHz PCM (for the VAD). */
  push(payloadBase64: string): Int16Array {
    const mulaw = Buffer.from(payloadBase64, "base64");
    const pcm8k = new Int16Array(mulaw.length);
    mulawToPcm16Into(mulaw, pcm8k);
    let modelPcm = pcm8k;
    if (this.#resampler) {
      modelPcm = new Int16Array(this.#resampler.outputLength(pcm8k.length));
      this.#resampler.process(pcm8k, modelPcm);
    }
    this.#gathered.push(pcm16LittleEndianBytes(modelPcm));
    return pcm8k;
  }

  /**
   * base64 16-bit LE PCM at the model's input rate, an audioInput's content: everything gathered, once at
   * least `frames` frames have (null while fewer have; `frames` 1 takes each frame at once).
   */
  take(frames: number): string | null {
    const gathered = this.#gathered;
    if (gathered.length === 0 || gathered.length < frames) return null;
    this.#gathered = [];
    const bytes = gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64");
  }
}

export class Downlink {
  readonly #resampler: Resampler | null;

  constructor(modelOutputRateHz: number) {
    this.#resampler =
      modelOutputRateHz === MULAW_SAMPLE_RATE_HZ
        ? null
        : new Resampler(modelOutputRateHz, MULAW_SAMPLE_RATE_HZ);
  }

  /** Model PCM (16-bit LE bytes at the output rate) → 8 kHz μ-law. */
  convert(pcmBytes: Uint8Array): Uint8Array {
    let pcm = pcm16FromLittleEndianBytes(pcmBytes);
    if (this.#resampler) {
      const out = new Int16Array(this.#resampler.outputLength(pcm.length));
      this.#resampler.process(pcm, out);
      pcm = out;
    }
    const mulaw = new Uint8Array(pcm.length);
    pcm16ToMulawInto(pcm, mulaw);
    return mulaw;
  }

  /** A new reply starts: forget the previous one's filter history (it was cut or has ended). */
  reset(): void {
    this.#resampler?.reset();
  }
}
