import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mulawToPcm16, pcm16ToMulaw } from "../shared/audio/mulaw.ts";
import { fitSinusoid, makeTone } from "../shared/audio/tone-response.ts";
import {
  PROMPT_FORMAT,
  promptAudio,
  promptKey,
  readCachedPrompt,
  resampleStages,
  toMulawFrames,
  writeCachedPrompt,
} from "./prompt-audio.ts";
import { decodeWav } from "./prompt-wav.ts";

/** A RIFF/WAVE file as a recorder would write it. */
function wavFile(options: {
  format: number;
  channels: number;
  rateHz: number;
  bits: number;
  data: Uint8Array;
  extensible?: boolean;
}): Uint8Array {
  const fmtSize = options.extensible ? 40 : 16;
  const out = new Uint8Array(12 + 8 + fmtSize + 8 + options.data.length);
  const view = new DataView(out.buffer);
  const tag = (at: number, text: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = text.charCodeAt(i);
  };
  tag(0, "RIFF");
  view.setUint32(4, out.length - 8, true);
  tag(8, "WAVE");
  tag(12, "fmt ");
  view.setUint32(16, fmtSize, true);
  const blockAlign = (options.channels * options.bits) / 8;
  view.setUint16(20, options.extensible ? 0xfffe : options.format, true);
  view.setUint16(22, options.channels, true);
  view.setUint32(24, options.rateHz, true);
  view.setUint32(28, options.rateHz * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, options.bits, true);
  if (options.extensible) {
    view.setUint16(36, 22, true);
    view.setUint16(38, options.bits, true);
    view.setUint16(44, options.format, true);
  }
  const dataAt = 20 + fmtSize;
  tag(dataAt, "data");
  view.setUint32(dataAt + 4, options.data.length, true);
  out.set(options.data, dataAt + 8);
  return out;
}

function pcm16Bytes(samples: Int16Array): Uint8Array {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
  return bytes;
}

/** The 8 kHz audio a prompt made from `wav` holds, after skipping the resampler's start-up. */
function toneAfterConversion(wav: Uint8Array): { amplitude: number; residualRms: number } {
  const decoded = decodeWav(wav, "test.wav");
  const pcm = mulawToPcm16(toMulawFrames(decoded.samples, decoded.sampleRateHz));
  return fitSinusoid(pcm.subarray(400, 4400), 1000, 8000);
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("prompt WAV files", () => {
  it("reads 16-bit stereo at 44.1 kHz, 8-bit PCM, μ-law and extensible files, and converts each to 8 kHz", () => {
    const tone44k = makeTone(1000, 44_100, 44_100, 12_000);
    const stereo = new Int16Array(tone44k.length * 2);
    tone44k.forEach((sample, i) => {
      stereo[2 * i] = sample;
      stereo[2 * i + 1] = sample;
    });
    const tone16k = makeTone(1000, 16_000, 16_000, 12_000);
    const eightBit = Uint8Array.from(makeTone(1000, 11_025, 11_025, 12_000), (s) => (s >> 8) + 128);
    const files = [
      wavFile({ format: 1, channels: 2, rateHz: 44_100, bits: 16, data: pcm16Bytes(stereo) }),
      wavFile({ format: 1, channels: 1, rateHz: 11_025, bits: 8, data: eightBit }),
      wavFile({
        format: 7,
        channels: 1,
        rateHz: 8000,
        bits: 8,
        data: pcm16ToMulaw(makeTone(1000, 8000, 8000, 12_000)),
      }),
      wavFile({
        format: 1,
        channels: 1,
        rateHz: 16_000,
        bits: 16,
        data: pcm16Bytes(tone16k),
        extensible: true,
      }),
    ];
    expect(decodeWav(files[0]!, "a.wav").description).toBe("pcm16 2ch 44100 Hz");
    expect(decodeWav(files[1]!, "b.wav").description).toBe("pcm8 1ch 11025 Hz");
    expect(decodeWav(files[2]!, "c.wav").description).toBe("mulaw 1ch 8000 Hz");
    for (const file of files) {
      const { amplitude, residualRms } = toneAfterConversion(file);
      expect(amplitude).toBeGreaterThan(11_000);
      expect(amplitude).toBeLessThan(13_000);
      // μ-law and 8-bit quantisation leave a residual, far below the tone.
      expect(residualRms / (amplitude / Math.SQRT2)).toBeLessThan(0.1);
    }
  });

  it("plans the 44.1 kHz family in stages the shared resampler can do", () => {
    expect(resampleStages(44_100, 8000)).toEqual([
      [44_100, 36_000],
      [36_000, 8000],
    ]);
    expect(resampleStages(8000, 8000)).toEqual([]);
    expect(resampleStages(24_000, 8000)).toEqual([[24_000, 8000]]);
    expect(() => resampleStages(8009, 8000)).toThrow(/prime factor/);
  });

  it("refuses what it cannot play, naming the file", () => {
    expect(() => decodeWav(new Uint8Array(40), "x.wav")).toThrow("x.wav: not a RIFF/WAVE file");
    const float = wavFile({ format: 3, channels: 1, rateHz: 8000, bits: 32, data: new Uint8Array(64) });
    expect(() => decodeWav(float, "f.wav")).toThrow(/f\.wav: unsupported encoding \(format 3, 32 bits\)/);
  });
});

describe("prompt audio and its disk cache", () => {
  it("cuts whole 20 ms frames (silence-padded) with their base64 payloads", () => {
    const mulaw = toMulawFrames(makeTone(440, 8000, 500), 8000);
    expect(mulaw.length).toBe(640);
    expect(mulaw.subarray(500)).toEqual(new Uint8Array(140).fill(0xff));
    const prompt = promptAudio("hold", "One moment.", "file", mulaw);
    expect(prompt.frames).toHaveLength(4);
    expect(prompt.durationMs).toBe(80);
    expect(Buffer.from(prompt.frames[1]!, "base64")).toEqual(Buffer.from(mulaw.subarray(160, 320)));
  });

  it("keys by text, voice, model and format, and reads back what it wrote", () => {
    const dir = mkdtempSync(join(tmpdir(), "prompt-cache-"));
    dirs.push(dir);
    const parts = { text: "Hello.", voiceId: "matthew", modelId: "amazon.nova-2-sonic-v1:0" };
    const key = promptKey(parts);
    expect(promptKey({ ...parts, voiceId: "tiffany" })).not.toBe(key);
    expect(promptKey({ ...parts, text: "Hello!" })).not.toBe(key);
    expect(readCachedPrompt(dir, "greeting", key)).toBeNull();
    const prompt = promptAudio(
      "greeting",
      "Hello there.",
      "rendered",
      toMulawFrames(makeTone(300, 8000, 800), 8000),
    );
    writeCachedPrompt(dir, key, prompt, {
      requestedText: parts.text,
      voiceId: parts.voiceId,
      modelId: parts.modelId,
    });
    expect(readdirSync(dir)).toEqual([`${key}.json`]);
    const read = readCachedPrompt(dir, "greeting", key);
    expect(read).toMatchObject({ id: "greeting", text: "Hello there.", source: "disk", durationMs: 100 });
    expect(read?.mulaw).toEqual(prompt.mulaw);
    expect(PROMPT_FORMAT).toContain("mulaw");
    writeFileSync(join(dir, `${key}.json`), "{ damaged");
    expect(readCachedPrompt(dir, "greeting", key)).toBeNull();
  });
});
