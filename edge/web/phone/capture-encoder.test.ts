import { describe, expect, it } from "vitest";
import { MULAW_FRAME_BYTES, mulawToPcm16 } from "../../../shared/audio/mulaw.ts";
import { CaptureEncoder, floatToPcm16 } from "./capture-encoder.ts";
import { PlaybackDecoder } from "./playback-decoder.ts";

const RATE_HZ = 48_000;
const BLOCK = 128;

function tone(frequencyHz: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: RATE_HZ * seconds },
    (_, i) => amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / RATE_HZ),
  );
}

/** Feeds the microphone signal in 128-sample render quanta, as the audio thread does. */
function capture(signal: Float32Array, encoder = new CaptureEncoder(RATE_HZ)): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let at = 0; at < signal.length; at += BLOCK)
    frames.push(...encoder.push(signal.subarray(at, at + BLOCK)));
  return frames;
}

function rms(samples: Int16Array | Float32Array, skip = 0): number {
  let sum = 0;
  for (let i = skip; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / (samples.length - skip));
}

describe("CaptureEncoder", () => {
  it("cuts one second at 48 kHz into fifty 160-byte frames of 8 kHz μ-law", () => {
    const frames = capture(tone(440, 1));
    expect(frames).toHaveLength(50);
    for (const frame of frames) expect(frame.length).toBe(MULAW_FRAME_BYTES);
  });

  it("keeps speech-band audio and filters out what would alias above 4 kHz", () => {
    const level = (frequencyHz: number) => {
      const pcm = mulawToPcm16(
        Uint8Array.from(capture(tone(frequencyHz, 0.5)).flatMap((frame) => [...frame])),
      );
      return rms(pcm, 80) / (0.5 * 32767);
    };
    // A sine's RMS is amplitude/√2; μ-law keeps it within a few percent.
    expect(level(1000)).toBeGreaterThan(0.66);
    expect(level(1000)).toBeLessThan(0.75);
    // 6 kHz would fold to 2 kHz if the 48 kHz signal were decimated without a low-pass filter.
    expect(level(6000)).toBeLessThan(0.01);
  });

  it("sends silence frames while muted (the stream goes on)", () => {
    const encoder = new CaptureEncoder(RATE_HZ);
    encoder.muted = true;
    const frames = capture(tone(1000, 0.2), encoder);
    expect(frames).toHaveLength(10);
    for (const frame of frames) expect(new Set(frame)).toEqual(new Set([0xff]));
  });

  it("clips floats outside [-1, 1] to the 16-bit range instead of wrapping", () => {
    const out = new Int16Array(4);
    floatToPcm16(Float32Array.from([2, -2, 0.5, -1]), out);
    expect([...out]).toEqual([32767, -32768, 16384, -32767]);
  });
});

describe("PlaybackDecoder", () => {
  it("turns 8 kHz μ-law into the context rate, six samples per byte, at the same level", () => {
    const speechBand = capture(tone(1000, 0.5));
    const decoder = new PlaybackDecoder(RATE_HZ);
    const played = speechBand.map((frame) => decoder.decode(frame));
    for (const block of played) expect(block.length).toBe(MULAW_FRAME_BYTES * 6);
    const all = Float32Array.from(played.flatMap((block) => [...block]));
    expect(rms(all, 2000) / 0.5).toBeGreaterThan(0.66);
    expect(rms(all, 2000) / 0.5).toBeLessThan(0.75);
  });
});
