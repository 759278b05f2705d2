/**
 * G.711 μ-law, bit-exact with sox (SoX v14.4.2, `-D`), which is what Twilio Media Streams carry:
 * 8 kHz mono, one byte per sample, 160 bytes per 20 ms frame.
 *
 * Encoding follows sox: the 16-bit sample is rounded (half up) to 14 bits, clipped at 8191, then coded
 * with the classic Sun/CCITT segment search (bias 33, clip 8159). Verified for all 65,536 inputs and all
 * 256 codes against test/fixtures/mulaw-reference.bin (made by test/fixtures/make-mulaw-reference.ts).
 *
 * Fast paths: decoding reads a 256-entry Int16Array; encoding reads a 65,536-entry Uint8Array indexed by
 * the sample's 16 bits (built once at load from the bit-level encoder; see `npm run bench:audio`).
 */
import { AppError } from "../errors.ts";

export const MULAW_SAMPLE_RATE_HZ = 8000;
export const MULAW_BYTES_PER_MS = 8;
export const FRAME_MS = 20;
export const MULAW_FRAME_BYTES = FRAME_MS * MULAW_BYTES_PER_MS;

const ULAW_BIAS_14 = 33;
const ULAW_CLIP_14 = 8159;

/** μ-law code for one 16-bit sample, computed with bit operations (the reference for the tables). */
export function mulawEncodeSample(sample: number): number {
  // sox: round to 14 bits (half up), clipping the two samples that would round to +8192.
  let magnitude = sample >= 32766 ? 8191 : (sample + 2) >> 2;
  let mask = 0xff;
  if (magnitude < 0) {
    magnitude = -magnitude;
    mask = 0x7f;
  }
  if (magnitude > ULAW_CLIP_14) magnitude = ULAW_CLIP_14;
  magnitude += ULAW_BIAS_14; // 33 ..= 8192
  // Segment 0 covers 33..63 (6 significant bits); each segment doubles.
  const segment = 26 - Math.clz32(magnitude);
  const code = segment >= 8 ? 0x7f : (segment << 4) | ((magnitude >> (segment + 1)) & 0x0f);
  return code ^ mask;
}

/** 16-bit sample for one μ-law code. */
export function mulawDecodeSample(code: number): number {
  const inverted = ~code & 0xff;
  const segment = (inverted >> 4) & 0x07;
  const magnitude = ((((inverted & 0x0f) << 3) + 0x84) << segment) - 0x84;
  return inverted & 0x80 ? -magnitude : magnitude;
}

const DECODE_TABLE: Int16Array = Int16Array.from({ length: 256 }, (_, code) => mulawDecodeSample(code));

/** Indexed by `sample & 0xffff`. */
const ENCODE_TABLE: Uint8Array = Uint8Array.from({ length: 65536 }, (_, bits) =>
  mulawEncodeSample((bits << 16) >> 16),
);

function checkCapacity(what: string, needed: number, available: number): void {
  if (available < needed) {
    throw new AppError("internal", `${what}: output holds ${available} samples, ${needed} needed`);
  }
}

/** Decodes `mulaw` into `out` (no allocation); returns the number of samples written. */
export function mulawToPcm16Into(mulaw: Uint8Array, out: Int16Array): number {
  const length = mulaw.length;
  checkCapacity("mulawToPcm16Into", length, out.length);
  for (let i = 0; i < length; i++) out[i] = DECODE_TABLE[mulaw[i]!]!;
  return length;
}

/** Encodes `pcm` into `out` (no allocation); returns the number of bytes written. */
export function pcm16ToMulawInto(pcm: Int16Array, out: Uint8Array): number {
  const length = pcm.length;
  checkCapacity("pcm16ToMulawInto", length, out.length);
  for (let i = 0; i < length; i++) out[i] = ENCODE_TABLE[pcm[i]! & 0xffff]!;
  return length;
}

/** Encodes with bit operations instead of the table (kept for the benchmark's comparison). */
export function pcm16ToMulawBitsInto(pcm: Int16Array, out: Uint8Array): number {
  const length = pcm.length;
  checkCapacity("pcm16ToMulawBitsInto", length, out.length);
  for (let i = 0; i < length; i++) out[i] = mulawEncodeSample(pcm[i]!);
  return length;
}

export function mulawToPcm16(mulaw: Uint8Array): Int16Array {
  const out = new Int16Array(mulaw.length);
  mulawToPcm16Into(mulaw, out);
  return out;
}

export function pcm16ToMulaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  pcm16ToMulawInto(pcm, out);
  return out;
}
