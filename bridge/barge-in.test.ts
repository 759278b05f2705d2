import { describe, expect, it } from "vitest";
import { BargeInDetector } from "./barge-in.ts";

const options = { vadEnabled: true, minSpeechMs: 400 };

/** Runs 20 ms frames from `fromMs` to `toMs`; returns the first cut. */
function runFrames(detector: BargeInDetector, fromMs: number, toMs: number, playing: boolean) {
  for (let nowMs = fromMs; nowMs <= toMs; nowMs += 20) {
    const decision = detector.advance(nowMs, playing);
    if (decision.cut) return decision;
  }
  return null;
}

describe("BargeInDetector", () => {
  it("cuts when the VAD confirms caller speech over the reply, dated from the onset", () => {
    const detector = new BargeInDetector(options);
    detector.speechOnset(1000);
    expect(runFrames(detector, 1000, 1400, true)).toBeNull();
    expect(detector.speechConfirmed(1420, true)).toEqual({
      cut: true,
      by: "vad",
      onsetMs: 1000,
      decidedMs: 1420,
    });
  });

  it("lets a back-channel the VAD never confirms pass", () => {
    const detector = new BargeInDetector(options);
    detector.speechOnset(1000);
    expect(runFrames(detector, 1000, 1600, true)).toBeNull();
    detector.speechOffset();
    expect(runFrames(detector, 1620, 3000, true)).toBeNull();
  });

  it("does not cut when nothing is playing", () => {
    const detector = new BargeInDetector(options);
    detector.speechOnset(0);
    expect(detector.speechConfirmed(400, false)).toEqual({ cut: false });
    expect(runFrames(detector, 420, 2000, false)).toBeNull();
  });

  it("counts confirmed speech begun before the reply from the moment the reply plays", () => {
    const detector = new BargeInDetector(options);
    detector.speechOnset(0);
    detector.speechConfirmed(400, false);
    expect(runFrames(detector, 420, 1000, false)).toBeNull();
    expect(runFrames(detector, 1020, 3000, true)).toMatchObject({
      by: "vad",
      onsetMs: 1020,
      decidedMs: 1420,
    });
  });

  it("does not cut twice with the same stretch of speech", () => {
    const detector = new BargeInDetector(options);
    detector.speechOnset(0);
    expect(detector.speechConfirmed(400, true)).toMatchObject({ cut: true });
    detector.reset();
    expect(runFrames(detector, 420, 3000, true)).toBeNull();
    detector.speechOffset();
    detector.speechOnset(3100);
    expect(detector.speechConfirmed(3500, true)).toMatchObject({ by: "vad", onsetMs: 3100 });
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
    detector.speechOnset(900);
    expect(detector.modelInterrupted(1000, true)).toEqual({
      cut: true,
      by: "model",
      onsetMs: 900,
      decidedMs: 1000,
    });
  });

  it("with the VAD disabled, only the model cuts", () => {
    const detector = new BargeInDetector({ vadEnabled: false, minSpeechMs: 400 });
    detector.speechOnset(0);
    expect(detector.speechConfirmed(400, true)).toEqual({ cut: false });
    expect(runFrames(detector, 420, 2000, true)).toBeNull();
    expect(detector.modelInterrupted(2000, true)).toMatchObject({ cut: true, by: "model", onsetMs: 0 });
  });
});
