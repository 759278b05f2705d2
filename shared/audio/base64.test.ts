import { describe, expect, it } from "vitest";
import { AppError } from "../errors.ts";
import {
  base64DecodedLength,
  base64LeToPcm16,
  decodeBase64,
  decodeBase64NativeInto,
  decodeBase64TableInto,
  encodeBase64,
  encodeBase64Table,
  mulawBase64ToPcm16,
  pcm16ToBase64Le,
  pcm16ToMulawBase64,
} from "./base64.ts";
import { mulawToPcm16, pcm16ToMulaw } from "./mulaw.ts";

function bytes(length: number, seed: number): Uint8Array {
  let state = seed;
  return Uint8Array.from({ length }, () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state >>> 24;
  });
}

const decoders = [
  ["native", decodeBase64NativeInto],
  ["table", decodeBase64TableInto],
] as const;

function errorOf(run: () => unknown): AppError | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  return undefined;
}

describe("base64 codec", () => {
  it("native methods exist in this runtime (Node 26)", () => {
    expect(typeof Uint8Array.prototype.setFromBase64).toBe("function");
    expect(typeof Uint8Array.prototype.toBase64).toBe("function");
  });

  it("both paths agree with Node's Buffer on every length 0..100 and on a 24 kHz frame", () => {
    for (const length of [...Array.from({ length: 101 }, (_, n) => n), 960, 1281]) {
      const data = bytes(length, length + 1);
      const expected = Buffer.from(data).toString("base64");
      expect(encodeBase64(data)).toBe(expected);
      expect(encodeBase64Table(data)).toBe(expected);
      expect(encodeBase64Table(data, new Uint8Array(4000))).toBe(expected);
      expect(base64DecodedLength(expected)).toBe(length);
      for (const [name, decode] of decoders) {
        const out = new Uint8Array(length + 2).fill(0xaa);
        expect(decode(expected, out), name).toBe(length);
        expect(out.subarray(0, length), name).toEqual(data);
        expect(out[length], `${name} wrote past the end`).toBe(0xaa);
      }
    }
  });

  it("encodes a subarray view, not its whole buffer", () => {
    const data = bytes(30, 7);
    expect(encodeBase64(data.subarray(5, 17))).toBe(Buffer.from(data.subarray(5, 17)).toString("base64"));
  });

  const INVALID = [
    ["A", "length"],
    ["AA", "length"],
    ["AAA", "length"],
    ["AAAAA", "length"],
    ["AA=A", "misplaced ="],
    ["A===", "three ="],
    ["====", "only padding"],
    ["=AAA", "leading ="],
    ["AAAA====", "padding quad"],
    ["AAF=", "non-zero padding bits (1 pad)"],
    ["AB==", "non-zero padding bits (2 pads)"],
    ["AAA ", "space"],
    [" AAA", "leading space"],
    ["AAAA    ", "whitespace quad"],
    ["AAAA\nAAAA", "newline"],
    ["AAAA\n\n\n\n", "newlines quad"],
    ["AA-_", "url alphabet"],
    ["AAé=", "latin-1 letter"],
    ["AA\u0141A", "char code aliasing 'A' in the low byte"],
    ["AAAA\u0000AAA", "NUL"],
  ] as const;

  for (const [input, why] of INVALID) {
    it(`rejects ${JSON.stringify(input)} (${why}) with bad_base64 on both paths`, () => {
      for (const [name, decode] of decoders) {
        expect(errorOf(() => decode(input, new Uint8Array(16)))?.code, name).toBe("bad_base64");
      }
      expect(errorOf(() => decodeBase64(input))?.code).toBe("bad_base64");
    });
  }

  it("accepts the empty string", () => {
    expect(decodeBase64("")).toEqual(new Uint8Array(0));
    expect(encodeBase64(new Uint8Array(0))).toBe("");
  });

  it("refuses an output that is too small", () => {
    for (const [name, decode] of decoders) {
      expect(errorOf(() => decode("AAAA", new Uint8Array(2)))?.code, name).toBe("internal");
    }
  });
});

describe("audio payloads", () => {
  const pcm = Int16Array.from({ length: 480 }, (_, n) => Math.round(20000 * Math.sin(n / 3)) - 7);

  it("16-bit PCM goes out as little-endian base64 and comes back", () => {
    const le = Buffer.alloc(pcm.length * 2);
    for (let i = 0; i < pcm.length; i++) le.writeInt16LE(pcm[i]!, i * 2);
    const base64 = pcm16ToBase64Le(pcm);
    expect(base64).toBe(le.toString("base64"));
    expect(base64LeToPcm16(base64)).toEqual(pcm);
    const out = new Int16Array(600);
    const view = base64LeToPcm16(base64, out);
    expect(view.length).toBe(480);
    expect(view.buffer).toBe(out.buffer);
    expect(view).toEqual(pcm);
  });

  it("an odd PCM byte count is a bad frame", () => {
    expect(errorOf(() => base64LeToPcm16("AA=="))?.code).toBe("bad_frame");
  });

  it("Twilio μ-law payloads decode to PCM in place, with or without an output array", () => {
    const mulaw = bytes(160, 3);
    const payload = Buffer.from(mulaw).toString("base64");
    const expected = mulawToPcm16(mulaw);
    expect(mulawBase64ToPcm16(payload)).toEqual(expected);
    const out = new Int16Array(160);
    expect(mulawBase64ToPcm16(payload, out)).toBe(out);
    expect(out).toEqual(expected);
    const offset = new Int16Array(400).subarray(37, 237); // unaligned start in a shared buffer
    expect(mulawBase64ToPcm16(payload, offset)).toEqual(expected);
    expect(errorOf(() => mulawBase64ToPcm16("AA=A", out))?.code).toBe("bad_base64");
  });

  it("PCM goes out as a Twilio μ-law payload", () => {
    const expected = Buffer.from(pcm16ToMulaw(pcm)).toString("base64");
    expect(pcm16ToMulawBase64(pcm)).toBe(expected);
    expect(pcm16ToMulawBase64(pcm, new Uint8Array(1000))).toBe(expected);
  });
});
