import { describe, expect, it } from "vitest";
import { BargeInDetector } from "./barge-in.ts";

const options = { vadEnabled: true, minSpeechMs: 240 };

/** Runs 20 ms frames from `fromMs` to `toMs`; returns the first cut. */
function runFrames(detector: BargeInDetector, fromMs: number, toMs: number, playing: boolean) {
  for (let nowMs = fromMs; nowMs <= toMs; nowMs += 20) {
    const decision = detector.advance(nowMs, playing);
    if (decision.cut) return decision;
  }
  return null;
}

describe("BargeInDetector", () => {
  it("cuts when the caller has spoken over the reply for the minimum duration, from onset", () => {
    const detector = new BargeInDetector(options);
    expect(detector.speechOnset(1000, true)).toEqual({ cut: false });
    expect(runFrames(detector, 1020, 2000, true)).toEqual({
      cut: true,
      by: "vad",
      onsetMs: 1000,
      decidedMs: 1240,
    });
  });

  it("lets a back-channel shorter than the minimum pass", () => {
    const detector = new BargeInDetector(options);
    detector.speechOnset(1000, true);
    expect(runFrames(detector, 1020, 1180, true)).toBeNull();
    detector.speechOffset();
    expect(runFrames(detector, 1200, 3000, true)).toBeNull();
  });

  it("does not cut when nothing is playing", () => {
    const detector = new BargeInDetector(options);
    detector.speechOnset(0, false);
    expect(runFrames(detector, 20, 2000, false)).toBeNull();
  });

  it("counts speech begun before playback from the moment playback starts", () => {
    const detector = new BargeInDetector(options);
    detector.speechOnset(0, false);
    expect(runFrames(detector, 20, 500, false)).toBeNull();
    expect(runFrames(detector, 520, 2000, true)).toMatchObject({ by: "vad", onsetMs: 520, decidedMs: 760 });
  });

  it("does not cut twice with the same stretch of speech", () => {
    const detector = new BargeInDetector(options);
    detector.speechOnset(0, true);
    expect(runFrames(detector, 20, 1000, true)).toMatchObject({ by: "vad" });
    detector.reset();
    expect(runFrames(detector, 1020, 3000, true)).toBeNull();
    detector.speechOffset();
    detector.speechOnset(3100, true);
    expect(runFrames(detector, 3120, 4000, true)).toMatchObject({ by: "vad", onsetMs: 3100 });
  });

  it("follows the model's signal at once, with the local onset when there is one", () => {
    const detector = new BargeInDetector(options);
    expect(detector.modelInterrupted(500, false)).toEqual({ cut: false });
    expect(detector.modelInterrupted(500, true)).toEqual({
      cut: true,
      by: "model",
      onsetMs: 500,
      decidedMs: 500,
    });
    detector.speechOnset(900, true);
    expect(detector.modelInterrupted(1000, true)).toEqual({
      cut: true,
      by: "model",
      onsetMs: 900,
      decidedMs: 1000,
    });
  });

  it("with the VAD disabled, only the model cuts", () => {
    const detector = new BargeInDetector({ vadEnabled: false, minSpeechMs: 240 });
    detector.speechOnset(0, true);
    expect(runFrames(detector, 20, 2000, true)).toBeNull();
    expect(detector.modelInterrupted(2000, true)).toMatchObject({ cut: true, by: "model", onsetMs: 0 });
  });
});
