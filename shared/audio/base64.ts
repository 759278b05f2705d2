/// <reference lib="esnext.typedarrays" />
/**
 * Strict standard base64 (RFC 4648 §4, "+/" alphabet, "=" padding required) for audio payloads:
 * Twilio media payloads (μ-law) and Nova Sonic audioInput/audioOutput content (16-bit LE PCM).
 *
 * Strict: a length that is not a multiple of 4, a character outside the alphabet (whitespace included),
 * a misplaced "=" or non-zero padding bits -> AppError("bad_base64"). The empty string is valid.
 *
 * Uses the native Uint8Array.prototype.setFromBase64/toBase64 where present (Node 26.10 and workerd
 * 2026-11 both have them; 5-15x faster than JS, see `npm run bench:audio`), with checks that make it
 * exactly as strict as the lookup-table codec, which serves any runtime without them. Tests hold
 * both paths to the same results.
 */
import { AppError } from "../errors.ts";
import { mulawToPcm16Into, pcm16ToMulawInto } from "./mulaw.ts";

const HAS_NATIVE_BASE64 =
  typeof Uint8Array.prototype.setFromBase64 === "function" &&
  typeof Uint8Array.prototype.toBase64 === "function";
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const INVALID = 255;
const PAD = 61; // "="

/** Sextet for a character code below 256, INVALID otherwise. */
const DECODE: Uint8Array = (() => {
  const table = new Uint8Array(256).fill(INVALID);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** Two base64 characters (as char codes) for each 12-bit value, packed high << 8 | low. */
const ENCODE_PAIRS: Uint16Array = (() => {
  const table = new Uint16Array(4096);
  for (let i = 0; i < 4096; i++) table[i] = (ALPHABET.charCodeAt(i >> 6) << 8) | ALPHABET.charCodeAt(i & 63);
  return table;
})();

/** Base64 characters are ASCII, which UTF-8 decodes as is (on a fast path in V8). */
const ASCII = new TextDecoder();

function invalid(reason: string): AppError {
  return new AppError("bad_base64", `invalid base64: ${reason}`);
}

/** Bytes that `base64` decodes to; throws AppError("bad_base64") if its length is not a multiple of 4. */
export function base64DecodedLength(base64: string): number {
  const length = base64.length;
  if (length % 4 !== 0) throw invalid(`length ${length} is not a multiple of 4`);
  if (length === 0) return 0;
  let padding = 0;
  if (base64.charCodeAt(length - 1) === PAD) padding = base64.charCodeAt(length - 2) === PAD ? 2 : 1;
  return (length / 4) * 3 - padding;
}

/** Decodes into `out` (no allocation); returns the number of bytes written. */
export function decodeBase64Into(base64: string, out: Uint8Array): number {
  return HAS_NATIVE_BASE64 ? decodeBase64NativeInto(base64, out) : decodeBase64TableInto(base64, out);
}

function checkCapacity(byteLength: number, out: Uint8Array): void {
  if (out.length < byteLength) {
    throw new AppError("internal", `base64 decode: output holds ${out.length} bytes, ${byteLength} needed`);
  }
}

/** The native decoder, held to the table codec's strictness. */
export function decodeBase64NativeInto(base64: string, out: Uint8Array): number {
  const byteLength = base64DecodedLength(base64);
  checkCapacity(byteLength, out);
  let result: { read: number; written: number };
  try {
    result = out.setFromBase64(base64, { lastChunkHandling: "strict" });
  } catch {
    throw describeInvalid(base64);
  }
  // The native decoder skips ASCII whitespace; any skipped character shows up as missing bytes.
  if (result.read !== base64.length || result.written !== byteLength) {
    throw invalid("whitespace or stray characters");
  }
  return byteLength;
}

/** The lookup-table decoder (any runtime). */
export function decodeBase64TableInto(base64: string, out: Uint8Array): number {
  const byteLength = base64DecodedLength(base64);
  checkCapacity(byteLength, out);
  const length = base64.length;
  if (length === 0) return 0;
  const fullEnd = length - 4; // the last quad may carry padding
  let written = 0;
  for (let i = 0; i < fullEnd; i += 4) {
    const ca = base64.charCodeAt(i);
    const cb = base64.charCodeAt(i + 1);
    const cc = base64.charCodeAt(i + 2);
    const cd = base64.charCodeAt(i + 3);
    const a = DECODE[ca & 0xff]!;
    const b = DECODE[cb & 0xff]!;
    const c = DECODE[cc & 0xff]!;
    const d = DECODE[cd & 0xff]!;
    // A char code above 255, or INVALID (bit 7 set; sextets are <= 63), anywhere in the quad.
    if ((((ca | cb | cc | cd) >> 8) | ((a | b | c | d) & 0xc0)) !== 0) throw invalidAt(base64, i);
    out[written] = (a << 2) | (b >> 4);
    out[written + 1] = ((b & 15) << 4) | (c >> 2);
    out[written + 2] = ((c & 3) << 6) | d;
    written += 3;
  }
  return written + decodeLastQuad(base64, fullEnd, out, written);
}

function decodeLastQuad(base64: string, i: number, out: Uint8Array, at: number): number {
  const a = sextet(base64, i);
  const b = sextet(base64, i + 1);
  const thirdIsPad = base64.charCodeAt(i + 2) === PAD;
  const fourthIsPad = base64.charCodeAt(i + 3) === PAD;
  if (thirdIsPad && !fourthIsPad) throw invalidAt(base64, i + 2);
  out[at] = (a << 2) | (b >> 4);
  if (thirdIsPad) {
    if ((b & 15) !== 0) throw invalid("non-zero padding bits");
    return 1;
  }
  const c = sextet(base64, i + 2);
  out[at + 1] = ((b & 15) << 4) | (c >> 2);
  if (fourthIsPad) {
    if ((c & 3) !== 0) throw invalid("non-zero padding bits");
    return 2;
  }
  out[at + 2] = ((c & 3) << 6) | sextet(base64, i + 3);
  return 3;
}

function sextet(base64: string, index: number): number {
  const code = base64.charCodeAt(index);
  const value = code < 256 ? DECODE[code]! : INVALID;
  if (value === INVALID) throw invalidAt(base64, index);
  return value;
}

function invalidAt(base64: string, quadStart: number): AppError {
  for (let i = quadStart; i < quadStart + 4; i++) {
    const code = base64.charCodeAt(i);
    if (code >= 256 || DECODE[code] === INVALID) {
      return invalid(`unexpected ${code === PAD ? '"="' : `character code ${code}`} at ${i}`);
    }
  }
  return invalid(`bad quad at ${quadStart}`);
}

/** Names the first character that makes `base64` invalid (the cold path after a failed decode). */
function describeInvalid(base64: string): AppError {
  const paddingStart = base64.length - (base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0);
  for (let i = 0; i < base64.length; i++) {
    const code = base64.charCodeAt(i);
    if (i >= paddingStart && code === PAD) continue;
    if (code >= 256 || DECODE[code] === INVALID) {
      return invalid(`unexpected ${code === PAD ? '"="' : `character code ${code}`} at ${i}`);
    }
  }
  return invalid("non-zero bits after the last byte");
}

export function decodeBase64(base64: string): Uint8Array {
  const out = new Uint8Array(base64DecodedLength(base64));
  decodeBase64Into(base64, out);
  return out;
}

export function encodeBase64(bytes: Uint8Array): string {
  return HAS_NATIVE_BASE64 ? bytes.toBase64() : encodeBase64Table(bytes);
}

/**
 * The lookup-table encoder (any runtime). `scratch` (optional, reused across calls) holds the
 * characters before they become a string; used if it holds base64EncodedLength(bytes.length) bytes.
 */
export function encodeBase64Table(bytes: Uint8Array, scratch?: Uint8Array): string {
  const length = bytes.length;
  const encodedLength = base64EncodedLength(length);
  const chars =
    scratch !== undefined && scratch.length >= encodedLength ? scratch : new Uint8Array(encodedLength);
  const fullEnd = length - (length % 3);
  let j = 0;
  for (let i = 0; i < fullEnd; i += 3) {
    const triple = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    const high = ENCODE_PAIRS[triple >> 12]!;
    const low = ENCODE_PAIRS[triple & 0xfff]!;
    chars[j] = high >> 8;
    chars[j + 1] = high & 0xff;
    chars[j + 2] = low >> 8;
    chars[j + 3] = low & 0xff;
    j += 4;
  }
  const rest = length - fullEnd;
  if (rest > 0) {
    const a = bytes[fullEnd]!;
    const b = rest === 2 ? bytes[fullEnd + 1]! : 0;
    chars[j] = ALPHABET.charCodeAt(a >> 2);
    chars[j + 1] = ALPHABET.charCodeAt(((a & 3) << 4) | (b >> 4));
    chars[j + 2] = rest === 2 ? ALPHABET.charCodeAt((b & 15) << 2) : PAD;
    chars[j + 3] = PAD;
    j += 4;
  }
  return ASCII.decode(chars.subarray(0, j));
}

export function base64EncodedLength(byteLength: number): number {
  return Math.ceil(byteLength / 3) * 4;
}

// --- audio payloads -------------------------------------------------------------------------------------

/** Little-endian bytes of `pcm`: a view of the same memory on little-endian hosts (all current ones). */
function pcm16LeBytes(pcm: Int16Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const bytes = new Uint8Array(pcm.byteLength);
  for (let i = 0; i < pcm.length; i++) {
    bytes[2 * i] = pcm[i]! & 0xff;
    bytes[2 * i + 1] = (pcm[i]! >> 8) & 0xff;
  }
  return bytes;
}

/** base64 of 16-bit little-endian PCM (Nova Sonic audioInput content). No copy on little-endian hosts. */
export function pcm16ToBase64Le(pcm: Int16Array): string {
  return encodeBase64(pcm16LeBytes(pcm));
}

function outputFor(samples: number, out: Int16Array | undefined, what: string): Int16Array {
  if (out === undefined) return new Int16Array(samples);
  if (out.length < samples) {
    throw new AppError("internal", `${what}: output holds ${out.length} samples, ${samples} needed`);
  }
  return out.length === samples ? out : out.subarray(0, samples);
}

/**
 * 16-bit LE PCM from base64 (Nova Sonic audioOutput content), decoded straight into `out` when given
 * (it must hold the samples; the result is `out` or a view of its first samples). An odd byte count is
 * AppError("bad_frame").
 */
export function base64LeToPcm16(base64: string, out?: Int16Array): Int16Array {
  const byteLength = base64DecodedLength(base64);
  if (byteLength % 2 !== 0)
    throw new AppError("bad_frame", `16-bit PCM payload has an odd length (${byteLength} bytes)`);
  const pcm = outputFor(byteLength / 2, out, "base64LeToPcm16");
  const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  decodeBase64Into(base64, bytes);
  if (!HOST_IS_LITTLE_ENDIAN) {
    for (let i = 0; i < pcm.length; i++) pcm[i] = (bytes[2 * i + 1]! << 8) | bytes[2 * i]!;
  }
  return pcm;
}

/**
 * 16-bit PCM from a Twilio media payload (base64 μ-law), decoded into `out` when given, with no other
 * buffer: the μ-law bytes land in the back half of `out`'s memory and expand forwards in place.
 */
export function mulawBase64ToPcm16(payload: string, out?: Int16Array): Int16Array {
  const samples = base64DecodedLength(payload);
  const pcm = outputFor(samples, out, "mulawBase64ToPcm16");
  const mulaw = new Uint8Array(pcm.buffer, pcm.byteOffset + samples, samples);
  decodeBase64Into(payload, mulaw);
  // Sample i (bytes 2i, 2i+1) only overwrites μ-law bytes already read (byte samples + i is read first).
  mulawToPcm16Into(mulaw, pcm);
  return pcm;
}

/** A Twilio media payload (base64 μ-law) for `pcm`; `scratch` (optional) avoids allocating the bytes. */
export function pcm16ToMulawBase64(pcm: Int16Array, scratch?: Uint8Array): string {
  const mulaw =
    scratch !== undefined && scratch.length >= pcm.length
      ? scratch.subarray(0, pcm.length)
      : new Uint8Array(pcm.length);
  pcm16ToMulawInto(pcm, mulaw);
  return encodeBase64(mulaw);
}
