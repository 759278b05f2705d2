import { describe, expect, it } from "vitest";
import { PlaybackBuffer } from "./playback-buffer.ts";

const frame = (value: number, ms = 20) => new Uint8Array(ms * 8).fill(value);

describe("PlaybackBuffer (Twilio's outbound buffer)", () => {
  it("plays queued audio in real time, in order", () => {
    const buffer = new PlaybackBuffer();
    buffer.enqueue(frame(1), 0);
    buffer.enqueue(frame(2), 0);
    expect(buffer.bufferedMs(0)).toBe(40);
    const first = buffer.advance(10);
    expect(first.played).toHaveLength(1);
    expect(first.played[0]?.bytes.length).toBe(80);
    const second = buffer.advance(40);
    expect(second.played.map((p) => [p.startMs, p.bytes.length, p.bytes[0]])).toEqual([
      [10, 80, 1],
      [20, 160, 2],
    ]);
    expect(buffer.bufferedMs(40)).toBe(0);
  });

  it("echoes a mark when the audio before it has played, or at once when nothing is queued", () => {
    const buffer = new PlaybackBuffer();
    buffer.mark("empty", 5);
    expect(buffer.advance(5).marks).toEqual(["empty"]);
    buffer.enqueue(frame(1), 10);
    buffer.mark("after-frame", 10);
    expect(buffer.advance(29).marks).toEqual([]);
    expect(buffer.nextEventMs()).toBe(30);
    expect(buffer.advance(30).marks).toEqual(["after-frame"]);
  });

  it("clear drops unplayed audio and echoes every pending mark", () => {
    const buffer = new PlaybackBuffer();
    for (let i = 0; i < 5; i++) {
      buffer.enqueue(frame(i), 0);
      buffer.mark(`m${i}`, 0);
    }
    const events = buffer.clear(30);
    expect(events.marks).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(events.played.reduce((sum, p) => sum + p.bytes.length, 0)).toBe(240);
    expect(buffer.bufferedMs(30)).toBe(0);
    expect(buffer.advance(1000)).toEqual({ played: [], marks: [] });
  });

  it("records gaps where audio ran dry between frames", () => {
    const buffer = new PlaybackBuffer();
    buffer.enqueue(frame(1), 0);
    buffer.enqueue(frame(1), 25);
    buffer.enqueue(frame(1), 30);
    expect(buffer.gaps).toEqual([[20, 25]]);
  });
});
