import { describe, expect, it } from "vitest";
import { hearingAtSwitch, soundTimeline } from "./switch-gaps.ts";

/** `count` 20 ms frames received every `everyMs` from `fromMs`. */
function frames(fromMs: number, count: number, everyMs: number) {
  return Array.from({ length: count }, (_, i) => ({ receivedMs: fromMs + i * everyMs, bytes: 160 }));
}

describe("switch gaps", () => {
  it("lays frames out as Twilio plays them: a burst queues, a late frame leaves a gap", () => {
    const timeline = soundTimeline([...frames(0, 5, 0), ...frames(100, 5, 20), ...frames(260, 2, 20)]);
    expect(timeline).toEqual([
      { startMs: 0, endMs: 200 },
      { startMs: 260, endMs: 300 },
    ]);
  });

  it("finds the silence that breaks speech after a switch, ignoring pauses between turns", () => {
    const timeline = soundTimeline([...frames(0, 50, 20), ...frames(1080, 50, 20), ...frames(4000, 10, 20)]);
    expect(hearingAtSwitch(timeline, 900)).toEqual({ playing: true, gapMs: 80 });
    expect(hearingAtSwitch(timeline, 1500)).toEqual({ playing: true, gapMs: 0 });
    expect(hearingAtSwitch(timeline, 2500)).toEqual({ playing: false, gapMs: 0 });
  });
});
