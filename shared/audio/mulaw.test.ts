import { describe, expect, it } from "vitest";
import { loadMulawReference } from "../../test/fixtures/fixtures.ts";
import {
  MULAW_FRAME_BYTES,
  mulawDecodeSample,
  mulawEncodeSample,
  mulawToPcm16,
  mulawToPcm16Into,
  pcm16ToMulaw,
  pcm16ToMulawBitsInto,
  pcm16ToMulawInto,
} from "./mulaw.ts";

const reference = loadMulawReference();
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
const ALL_CODES = Uint8Array.from({ length: 256 }, (_, code) => code);

function firstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>): string | undefined {
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) return `index ${i}: got ${actual[i]}, sox gives ${expected[i]}`;
  }
  return actual.length === expected.length ? undefined : `length ${actual.length} != ${expected.length}`;
}

describe("μ-law against sox", () => {
  it("decodes all 256 codes exactly as sox (table and bit paths)", () => {
    expect(firstMismatch(mulawToPcm16(ALL_CODES), reference.decode)).toBeUndefined();
    expect(firstMismatch(Array.from(ALL_CODES, mulawDecodeSample), reference.decode)).toBeUndefined();
  });

  it("encodes all 65,536 samples exactly as sox (table path)", () => {
    expect(firstMismatch(pcm16ToMulaw(ALL_SAMPLES), reference.encode)).toBeUndefined();
  });

  it("encodes all 65,536 samples exactly as sox (bit path)", () => {
    const out = new Uint8Array(65536);
    pcm16ToMulawBitsInto(ALL_SAMPLES, out);
    expect(firstMismatch(out, reference.encode)).toBeUndefined();
    expect(mulawEncodeSample(0)).toBe(0xff);
    expect(mulawEncodeSample(-32768)).toBe(0x00);
    expect(mulawEncodeSample(32767)).toBe(0x80);
  });

  it("round-trips every code: decode then encode gives the code back (except the duplicate zero 0x7f)", () => {
    const back = pcm16ToMulaw(mulawToPcm16(ALL_CODES));
    for (let code = 0; code < 256; code++) expect(back[code]).toBe(code === 0x7f ? 0xff : code);
  });
});

describe("into-variants", () => {
  it("write a frame into caller arrays and report the count", () => {
    const pcm = new Int16Array(MULAW_FRAME_BYTES);
    const bytes = new Uint8Array(MULAW_FRAME_BYTES);
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin(i / 5));
    expect(pcm16ToMulawInto(pcm, bytes)).toBe(160);
    const decoded = new Int16Array(200).fill(7);
    expect(mulawToPcm16Into(bytes, decoded)).toBe(160);
    expect(decoded[160]).toBe(7);
    for (let i = 0; i < 160; i++) expect(Math.abs(decoded[i]! - pcm[i]!)).toBeLessThanOrEqual(256);
  });

  it("refuses an output that is too small", () => {
    expect(() => mulawToPcm16Into(new Uint8Array(10), new Int16Array(9))).toThrow(/9 samples/);
    expect(() => pcm16ToMulawInto(new Int16Array(10), new Uint8Array(9))).toThrow(/9 samples/);
  });
});
