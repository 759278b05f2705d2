/**
 * Reading the WAV files a deployer provides for cached prompts, pure: RIFF/WAVE with PCM (8-bit unsigned or
 * 16-bit signed), μ-law (format 7) or A-law (format 6), plain or WAVE_FORMAT_EXTENSIBLE, any sample rate
 * and channel count (channels are mixed down to mono). Anything else is refused naming the file and why.
 */
import { mulawDecodeSample } from "../shared/audio/mulaw.ts";
import { AppError } from "../shared/errors.ts";

export interface DecodedWav {
  /** Mono 16-bit samples. */
  samples: Int16Array;
  sampleRateHz: number;
  /** What the file held, for logs: e.g. "pcm16 2ch 44100 Hz". */
  description: string;
}

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

/** G.711 A-law to 16-bit linear. */
function alawDecodeSample(code: number): number {
  const a = code ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  if ((a & 0x80) === 0) magnitude = -magnitude;
  return magnitude;
}

export function decodeWav(bytes: Uint8Array, what: string): DecodedWav {
  const refuse = (why: string): never => {
    throw new AppError("bad_config", `${what}: ${why}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.byteLength < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") refuse("not a RIFF/WAVE file");
  let format: { code: number; channels: number; rateHz: number; bits: number; blockAlign: number } | null =
    null;
  for (let at = 12; at + 8 <= bytes.byteLength; ) {
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (tag(at) === "fmt ") {
      if (size < 16 || body + 16 > bytes.byteLength) refuse("fmt chunk too short");
      let code = view.getUint16(body, true);
      if (code === FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 26 > bytes.byteLength) refuse("WAVE_FORMAT_EXTENSIBLE without a subformat");
        code = view.getUint16(body + 24, true);
      }
      format = {
        code,
        channels: view.getUint16(body + 2, true),
        rateHz: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (tag(at) === "data") {
      if (!format) return refuse("data chunk before the fmt chunk");
      return decodeData(bytes.subarray(body, Math.min(bytes.byteLength, body + size)), format, refuse);
    }
    at = body + size + (size % 2);
  }
  return refuse("no data chunk");
}

function decodeData(
  data: Uint8Array,
  format: { code: number; channels: number; rateHz: number; bits: number; blockAlign: number },
  refuse: (why: string) => never,
): DecodedWav {
  const { code, channels, rateHz, bits } = format;
  if (channels < 1 || channels > 8) refuse(`${channels} channels`);
  if (rateHz < 4000 || rateHz > 192_000) refuse(`sample rate ${rateHz} Hz`);
  let kind: "pcm8" | "pcm16" | "mulaw" | "alaw";
  if (code === FORMAT_PCM && bits === 8) kind = "pcm8";
  else if (code === FORMAT_PCM && bits === 16) kind = "pcm16";
  else if (code === FORMAT_MULAW && bits === 8) kind = "mulaw";
  else if (code === FORMAT_ALAW && bits === 8) kind = "alaw";
  else return refuse(`unsupported encoding (format ${code}, ${bits} bits): use 8/16-bit PCM, μ-law or A-law`);
  const bytesPerSample = kind === "pcm16" ? 2 : 1;
  const frameBytes = bytesPerSample * channels;
  const frames = Math.floor(data.byteLength / frameBytes);
  if (frames === 0) refuse("no audio");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read = (at: number): number => {
    switch (kind) {
      case "pcm16":
        return view.getInt16(at, true);
      case "pcm8":
        return (data[at]! - 128) << 8;
      case "mulaw":
        return mulawDecodeSample(data[at]!);
      case "alaw":
        return alawDecodeSample(data[at]!);
    }
  };
  const samples = new Int16Array(frames);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++)
      sum += read(frame * frameBytes + channel * bytesPerSample);
    samples[frame] = Math.max(-32768, Math.min(32767, Math.round(sum / channels)));
  }
  return { samples, sampleRateHz: rateHz, description: `${kind} ${channels}ch ${rateHz} Hz` };
}
