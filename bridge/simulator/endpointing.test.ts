import { describe, expect, it } from "vitest";
import { BLOCK_MS, type EndpointEvent, Endpointer, PAUSE_MS_BY_SENSITIVITY } from "./endpointing.ts";

const RATE_HZ = 8000;

/** A 300 Hz tone at the given level (dBFS RMS), or silence at -inf, for `ms` milliseconds. */
function tone(ms: number, levelDbfs: number | undefined): Int16Array {
  const samples = new Int16Array((RATE_HZ * ms) / 1000);
  if (levelDbfs === undefined) return samples;
  const amplitude = 32768 * 10 ** (levelDbfs / 20) * Math.SQRT2;
  for (let index = 0; index < samples.length; index++) {
    samples[index] = Math.round(amplitude * Math.sin((2 * Math.PI * 300 * index) / RATE_HZ));
  }
  return samples;
}

function join(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function run(samples: Int16Array, chunkSamples: number, pauseMs = 500): EndpointEvent[] {
  const endpointer = new Endpointer({
    sampleRateHz: RATE_HZ,
    pauseMs,
    speechThresholdDbfs: -40,
    minSpeechMs: 120,
  });
  const events: EndpointEvent[] = [];
  for (let at = 0; at < samples.length; at += chunkSamples) {
    events.push(...endpointer.push(samples.subarray(at, at + chunkSamples)).events);
  }
  return events;
}

describe("Endpointer", () => {
  it("finds the onset after the minimum speech and the turn end after the pause", () => {
    const events = run(join(tone(200, undefined), tone(600, -20), tone(800, undefined)), 160);
    expect(events).toHaveLength(2);
    const [start, end] = events;
    expect(start).toMatchObject({ kind: "speech_start", speechStartAudioMs: 200, atAudioMs: 320 });
    expect(end).toMatchObject({
      kind: "turn_end",
      speechStartAudioMs: 200,
      lastSpeechAudioMs: 800,
      atAudioMs: 1300,
    });
    expect(end?.kind === "turn_end" && end.envelopeDbfs.length).toBe(600 / BLOCK_MS);
    expect(end?.kind === "turn_end" && Math.round(end.envelopeDbfs[3] ?? 0)).toBe(-20);
  });

  it("does not end the turn on a pause shorter than the setting", () => {
    const audio = join(tone(400, -25), tone(300, undefined), tone(400, -25), tone(700, undefined));
    const ends = run(audio, 160).filter((event) => event.kind === "turn_end");
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ speechStartAudioMs: 0, lastSpeechAudioMs: 1100 });
  });

  it("ignores blips shorter than the minimum speech and sound below the threshold", () => {
    const audio = join(tone(80, -10), tone(400, undefined), tone(1000, -50), tone(600, undefined));
    expect(run(audio, 160)).toEqual([]);
  });

  it("gives the same answer whatever the chunking (audio time, not arrival time)", () => {
    const audio = join(
      tone(100, undefined),
      tone(700, -30),
      tone(900, undefined),
      tone(300, -30),
      tone(900, undefined),
    );
    const reference = run(audio, 160);
    expect(reference.filter((event) => event.kind === "turn_end")).toHaveLength(2);
    expect(run(audio, 37)).toEqual(reference);
    expect(run(audio, 4001)).toEqual(reference);
  });

  it("uses the documented pause per sensitivity", () => {
    expect(PAUSE_MS_BY_SENSITIVITY).toEqual({ HIGH: 1500, MEDIUM: 1750, LOW: 2000 });
  });
});
