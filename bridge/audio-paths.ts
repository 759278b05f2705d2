/**
 * The two audio conversions of a call, each with its own carried state (resampler history), pure:
 * - uplink: Twilio's base64 8 kHz μ-law → 16-bit PCM at the model's input rate, base64 for audioInput;
 *   it also hands back the 8 kHz PCM for the local VAD;
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

export interface UplinkChunk {
  /** The caller's audio at 8 kHz (for the VAD). */
  pcm8k: Int16Array;
  /**
   * base64 16-bit LE PCM at the model's input rate: an audioInput's content, once `framesPerAudioInput`
   * frames have gathered (null while they gather).
   */
  modelBase64: string | null;
}

export class Uplink {
  readonly #resampler: Resampler | null;
  readonly #framesPerAudioInput: number;
  #gathered: Uint8Array[] = [];

  /** `framesPerAudioInput`: Twilio frames per audioInput (1 = each 20 ms frame is sent at once). */
  constructor(modelInputRateHz: number, framesPerAudioInput = 1) {
    this.#resampler =
      modelInputRateHz === MULAW_SAMPLE_RATE_HZ
        ? null
        : new Resampler(MULAW_SAMPLE_RATE_HZ, modelInputRateHz);
    this.#framesPerAudioInput = Math.max(1, Math.floor(framesPerAudioInput));
  }

  /** One Twilio media payload (base64 μ-law) → PCM for the VAD and audioInput content for the model. */
  convert(payloadBase64: string): UplinkChunk {
    const mulaw = Buffer.from(payloadBase64, "base64");
    const pcm8k = new Int16Array(mulaw.length);
    mulawToPcm16Into(mulaw, pcm8k);
    let modelPcm = pcm8k;
    if (this.#resampler) {
      modelPcm = new Int16Array(this.#resampler.outputLength(pcm8k.length));
      this.#resampler.process(pcm8k, modelPcm);
    }
    const bytes = pcm16LittleEndianBytes(modelPcm);
    if (this.#framesPerAudioInput === 1) {
      return {
        pcm8k,
        modelBase64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64"),
      };
    }
    this.#gathered.push(bytes);
    if (this.#gathered.length < this.#framesPerAudioInput) return { pcm8k, modelBase64: null };
    const joined = Buffer.concat(this.#gathered);
    this.#gathered = [];
    return { pcm8k, modelBase64: joined.toString("base64") };
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
