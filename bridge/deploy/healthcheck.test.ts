import { describe, expect, it } from "vitest";
import { healthProbeUrl, judgeHealth } from "./healthcheck.ts";

describe("healthProbeUrl", () => {
  it("probes loopback when the bridge listens on every interface", () => {
    expect(healthProbeUrl({ host: "0.0.0.0", port: 8081 })).toBe("http://127.0.0.1:8081/healthz");
    expect(healthProbeUrl({ host: "::", port: 9000 })).toBe("http://127.0.0.1:9000/healthz");
  });

  it("probes the one interface the bridge listens on, IPv6 in brackets", () => {
    expect(healthProbeUrl({ host: "10.0.0.7", port: 8081 })).toBe("http://10.0.0.7:8081/healthz");
    expect(healthProbeUrl({ host: "::1", port: 8081 })).toBe("http://[::1]:8081/healthz");
  });

  it("refuses port 0, which it cannot know", () => {
    expect(() => healthProbeUrl({ host: "0.0.0.0", port: 0 })).toThrow(/BRIDGE_PORT is 0/);
  });
});

describe("judgeHealth", () => {
  const health = { status: "ok", bridgeId: "b", region: "us-east-1", activeCalls: 3, maxCalls: 100 };

  it("is healthy on 200 with status ok", () => {
    expect(judgeHealth(200, health)).toEqual({ healthy: true, summary: "ok, 3/100 calls" });
  });

  it("is unhealthy while draining, on other statuses and without JSON", () => {
    expect(judgeHealth(503, { ...health, status: "draining" })).toEqual({
      healthy: false,
      reason: 'HTTP 503, status "draining"',
    });
    expect(judgeHealth(200, { ...health, status: "draining" }).healthy).toBe(false);
    expect(judgeHealth(500, health).healthy).toBe(false);
    expect(judgeHealth(200, null)).toEqual({ healthy: false, reason: "HTTP 200, no JSON" });
    expect(judgeHealth(200, { bridgeId: "b" })).toEqual({ healthy: false, reason: "HTTP 200, status null" });
  });
});
