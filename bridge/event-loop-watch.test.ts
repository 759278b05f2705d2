import { describe, expect, it } from "vitest";
import { Logger } from "../shared/log.ts";
import { EventLoopWatch, findStall } from "./event-loop-watch.ts";

describe("findStall", () => {
  it("is no stall within the threshold", () => {
    expect(findStall(100, 120, 25, [])).toBeNull();
  });

  it("measures a stall and the GC time inside it", () => {
    const pauses = [
      { startMs: 50, durationMs: 10 }, // before the stall
      { startMs: 105, durationMs: 20 }, // inside
      { startMs: 135, durationMs: 30 }, // straddles its end
    ];
    expect(findStall(100, 150, 25, pauses)).toEqual({ lateMs: 50, gcMs: 35 });
  });
});

describe("EventLoopWatch", () => {
  it("logs a stall of the event loop and counts it for /metrics", async () => {
    const lines: string[] = [];
    const logger = new Logger({ component: "test" }, { level: "warn", sink: (line) => lines.push(line) });
    const watch = new EventLoopWatch({ logger, stallMs: 25, intervalMs: 5 });
    watch.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const until = performance.now() + 80;
    while (performance.now() < until) {
      // Block the loop for 80 ms, as a long synchronous task would.
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    watch.stop();
    const stalls = lines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.msg === "event loop stalled");
    expect(stalls.length).toBeGreaterThanOrEqual(1);
    expect(stalls[0].lateMs).toBeGreaterThanOrEqual(50);
    const snapshot = watch.snapshot() as {
      stalls: { count: number; worstMs: number };
      lateMs: { checks: number };
    };
    expect(snapshot.stalls.count).toBe(stalls.length);
    expect(snapshot.stalls.worstMs).toBeGreaterThanOrEqual(50);
    expect(snapshot.lateMs.checks).toBeGreaterThan(5);
  });
});
