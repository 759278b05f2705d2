import { describe, expect, it } from "vitest";
import { PlaybackQueue } from "./playback-queue.ts";

const ramp = (from: number, length: number) => Float32Array.from({ length }, (_, i) => (from + i) / 1000);

describe("PlaybackQueue", () => {
  it("plays queued audio in order across blocks, then silence", () => {
    const queue = new PlaybackQueue();
    queue.enqueue(ramp(0, 3));
    queue.enqueue(ramp(3, 4));
    const first = new Float32Array(5);
    expect(queue.render(first).audioSamples).toBe(5);
    expect([...first]).toEqual([...ramp(0, 5)]);
    const second = new Float32Array(5).fill(9);
    expect(queue.render(second).audioSamples).toBe(2);
    expect([...second]).toEqual([...ramp(5, 2), 0, 0, 0]);
    expect(queue.bufferedSamples).toBe(0);
    expect(queue.playedSamples).toBe(7);
  });

  it("echoes a mark once the audio queued before it has played, not before", () => {
    const queue = new PlaybackQueue();
    queue.enqueue(ramp(0, 6));
    expect(queue.mark("m1")).toEqual([]);
    queue.enqueue(ramp(6, 4));
    expect(queue.mark("m2")).toEqual([]);
    expect(queue.render(new Float32Array(4)).marks).toEqual([]);
    expect(queue.render(new Float32Array(2)).marks).toEqual(["m1"]);
    expect(queue.render(new Float32Array(3)).marks).toEqual([]);
    expect(queue.render(new Float32Array(3)).marks).toEqual(["m2"]);
  });

  it("echoes a mark at once when nothing is queued, after any marks still due", () => {
    const queue = new PlaybackQueue();
    expect(queue.mark("idle")).toEqual(["idle"]);
    queue.enqueue(ramp(0, 2));
    queue.mark("a");
    queue.render(new Float32Array(2));
    // "a" fell due in that block and was returned there; a new mark on an empty queue goes at once.
    expect(queue.mark("b")).toEqual(["b"]);
  });

  it("clear drops the queued audio and returns every pending mark in order", () => {
    const queue = new PlaybackQueue();
    queue.enqueue(ramp(0, 10));
    queue.mark("g1:a");
    queue.enqueue(ramp(10, 10));
    queue.mark("g1:b");
    queue.render(new Float32Array(4));
    expect(queue.clear()).toEqual(["g1:a", "g1:b"]);
    expect(queue.bufferedSamples).toBe(0);
    const after = new Float32Array(3).fill(9);
    expect(queue.render(after)).toEqual({ audioSamples: 0, marks: [] });
    expect([...after]).toEqual([0, 0, 0]);
    // The queue goes on from where play-out was: new audio and marks behave as before.
    queue.enqueue(ramp(0, 2));
    expect(queue.mark("g2:a")).toEqual([]);
    expect(queue.render(new Float32Array(2)).marks).toEqual(["g2:a"]);
  });
});
