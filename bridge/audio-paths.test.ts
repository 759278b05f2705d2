import { describe, expect, it } from "vitest";
import { mulawToPcm16, pcm16ToMulaw } from "../shared/audio/mulaw.ts";
import { Downlink, pcm16FromLittleEndianBytes, Uplink } from "./audio-paths.ts";

function tone(frequencyHz: number, rateHz: number, ms: number, amplitude = 8000): Int16Array {
  const count = (rateHz * ms) / 1000;
  return Int16Array.from({ length: count }, (_, n) =>
    Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * n) / rateHz)),
  );
}

function rms(samples: Int16Array, skip = 0): number {
  let sum = 0;
  for (let i = skip; i < samples.length; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / Math.max(1, samples.length - skip));
}

function leBytes(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
  return out;
}

/** The audioInput content taken one frame at a time: there always is one. */
function sentBytes(uplink: Uplink): Uint8Array {
  const content = uplink.take(1);
  if (content === null) throw new Error("the frame produced no audioInput content");
  return new Uint8Array(Buffer.from(content, "base64"));
}

describe("Uplink", () => {
  it("at 8 kHz, sends the μ-law decoded samples as little-endian PCM", () => {
    const mulaw = pcm16ToMulaw(tone(440, 8000, 20));
    const uplink = new Uplink(8000);
    const pcm8k = uplink.push(Buffer.from(mulaw).toString("base64"));
    expect([...pcm8k]).toEqual([...mulawToPcm16(mulaw)]);
    const sent = pcm16FromLittleEndianBytes(sentBytes(uplink));
    expect([...sent]).toEqual([...pcm8k]);
  });

  it("at 16 kHz, doubles the samples frame after frame and keeps the tone's level", () => {
    const uplink = new Uplink(16000);
    const mulaw = pcm16ToMulaw(tone(1000, 8000, 400));
    const out: number[] = [];
    for (let at = 0; at < mulaw.length; at += 160) {
      uplink.push(Buffer.from(mulaw.subarray(at, at + 160)).toString("base64"));
      out.push(...pcm16FromLittleEndianBytes(sentBytes(uplink)));
    }
    expect(out.length).toBe(6400);
    const level = rms(Int16Array.from(out), 320);
    expect(level).toBeGreaterThan(8000 / Math.SQRT2 - 300);
    expect(level).toBeLessThan(8000 / Math.SQRT2 + 300);
  });

  it("gathers frames into one audioInput until enough have come, and hands over all of them at once", () => {
    const uplink = new Uplink(8000);
    const frame = (value: number) => Buffer.alloc(160, value).toString("base64");
    const level = (value: number) => mulawToPcm16(new Uint8Array([value]))[0];
    uplink.push(frame(0x10));
    expect(uplink.take(2)).toBeNull();
    uplink.push(frame(0x20));
    const joined = pcm16FromLittleEndianBytes(new Uint8Array(Buffer.from(uplink.take(2)!, "base64")));
    expect(joined.length).toBe(320);
    expect([joined[0], joined[319]]).toEqual([level(0x10), level(0x20)]);
    uplink.push(frame(0x30));
    expect(uplink.take(5)).toBeNull();
    expect(uplink.gatheredFrames).toBe(1);
    // Someone waits now (the caller speaks): what has gathered goes with the next frame.
    uplink.push(frame(0x40));
    const flushed = pcm16FromLittleEndianBytes(new Uint8Array(Buffer.from(uplink.take(1)!, "base64")));
    expect([flushed.length, flushed[0], flushed[319]]).toEqual([320, level(0x30), level(0x40)]);
    expect(uplink.take(1)).toBeNull();
  });
});

describe("Downlink", () => {
  it("turns 24 kHz model speech into 8 kHz μ-law, removing what telephones cannot carry", () => {
    const downlink = new Downlink(24000);
    const speechBand = tone(1000, 24000, 200);
    const aboveNyquist = tone(6000, 24000, 200);
    const low = downlink.convert(leBytes(speechBand));
    expect(low.length).toBe(1600);
    expect(rms(mulawToPcm16(low), 80)).toBeGreaterThan(5000);
    downlink.reset();
    const high = downlink.convert(leBytes(aboveNyquist));
    expect(rms(mulawToPcm16(high), 80)).toBeLessThan(300);
  });

  it("at 8 kHz, encodes directly and reads unaligned chunks", () => {
    const samples = tone(500, 8000, 20);
    const bytes = leBytes(samples);
    const unaligned = new Uint8Array(bytes.length + 1);
    unaligned.set(bytes, 1);
    const out = new Downlink(8000).convert(unaligned.subarray(1));
    expect([...out]).toEqual([...pcm16ToMulaw(samples)]);
    expect(() => new Downlink(8000).convert(new Uint8Array(3))).toThrow(/odd length/);
  });
});
