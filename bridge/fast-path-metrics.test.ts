import { describe, expect, it } from "vitest";
import { FastPathMetrics } from "./fast-path-metrics.ts";

describe("fast-path metrics", () => {
  it("summarises each source on its own", () => {
    const metrics = new FastPathMetrics();
    for (let ms = 1; ms <= 100; ms++) metrics.sessionReady("cold", ms);
    metrics.sessionReady("pool", -3);
    metrics.greetingFirstAudio("cache", 0.44);
    const snapshot = metrics.snapshot();
    expect(snapshot.sessionReadyMs.cold).toEqual({ count: 100, p50Ms: 50, p95Ms: 95, maxMs: 100 });
    expect(snapshot.sessionReadyMs.pool).toEqual({ count: 1, p50Ms: 0, p95Ms: 0, maxMs: 0 });
    expect(snapshot.sessionReadyMs.prewarm).toEqual({ count: 0, p50Ms: null, p95Ms: null, maxMs: null });
    expect(snapshot.greetingFirstAudioMs.cache.p50Ms).toBe(0.4);
    expect(snapshot.greetingFirstAudioMs.model.count).toBe(0);
  });
});
