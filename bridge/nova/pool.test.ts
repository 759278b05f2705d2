/**
 * The session pool with real Nova Sonic streams (NovaModelSession through the AWS SDK over HTTP/2) against
 * the simulator: it fills, hands a ready stream to one call and replaces it, retires streams at their age
 * limit in protocol order, backs off when opens are refused, and closes what it holds.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBridgeConfig } from "../config.ts";
import { NovaModelSession } from "../model-session.ts";
import { type NovaSimulator, startNovaSimulator } from "../simulator/server.ts";
import { createNovaClient } from "./client.ts";
import { SessionPool, type SessionPoolOptions } from "./pool.ts";
import { CREDENTIALS, quiet, REGION, SIM_OPTIONS } from "./session-harness.ts";

let simulator: NovaSimulator;
let client: ReturnType<typeof createNovaClient>;
const pools: SessionPool<NovaModelSession>[] = [];
const model = parseBridgeConfig({ BRIDGE_SECRET: "pool-test-secret-0123", BRIDGE_REGION: REGION }).model;

beforeAll(async () => {
  simulator = await startNovaSimulator(SIM_OPTIONS);
  client = createNovaClient({
    region: REGION,
    endpoint: simulator.url,
    credentials: CREDENTIALS,
    requestTimeoutMs: 10_000,
    sessionTimeoutMs: 10_000,
  });
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  client.destroy();
  await simulator.close();
});

const now = () => performance.timeOrigin + performance.now();

function pool(options: Partial<SessionPoolOptions<NovaModelSession>> = {}): SessionPool<NovaModelSession> {
  const created = new SessionPool<NovaModelSession>({
    open: () => NovaModelSession.open({ client, model, warm: true, logger: quiet, now }),
    minSize: 1,
    maxSize: 4,
    maxAgeMs: 20_000,
    maintainEveryMs: 50,
    logger: quiet,
    now,
    ...options,
  });
  pools.push(created);
  created.start();
  return created;
}

async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const record = (key: string) => simulator.sessions.list().find((r) => r.promptName === key);

describe("session pool", () => {
  it("holds ready streams and gives each to one call only, replacing it", async () => {
    const warm = pool({ minSize: 2 });
    await until(() => warm.stats().ready === 2, "two ready streams");
    const first = warm.take();
    const second = warm.take();
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(first?.key).not.toBe(second?.key);
    expect(first?.acceptedAtMs).toBeDefined();
    await until(() => warm.stats().ready >= 2, "replacements");
    expect(warm.stats()).toMatchObject({ hits: 2, misses: 0, hitsConnecting: 0 });
    expect(warm.stats().opened).toBeGreaterThanOrEqual(4);

    // The stream serves its call: the greeting request is answered.
    const events: string[] = [];
    first!.attach({ onEvent: (event) => events.push(event.kind), onEnd: () => events.push("end") });
    first!.start({ history: [], instruction: "The caller has just connected. Greet them." });
    await until(() => events.includes("audioOutput"), "the greeting's audio");
    await first!.close();
    await second!.close();
    expect(record(first!.key)?.received.slice(0, 3)).toEqual(["sessionStart", "promptStart", "contentStart"]);
    expect(record(first!.key)?.endReason).toBe("session_end");
    await warm.close();
  });

  it("retires streams at their age limit in protocol order and keeps the pool filled", async () => {
    const aging = pool({ minSize: 1, maxAgeMs: 1500 });
    await until(() => aging.stats().ready === 1, "a ready stream");
    await until(() => aging.stats().retired >= 1, "a retirement");
    await until(() => aging.stats().ready >= 1, "the replacement");
    const retired = simulator.sessions
      .list()
      .filter((r) => r.endReason === "session_end" && !r.received.includes("audioInput"));
    expect(retired.length).toBeGreaterThan(0);
    expect(retired.at(-1)?.received.slice(-2)).toEqual(["promptEnd", "sessionEnd"]);
    await aging.close();
  });

  it("counts a miss when it is empty, and grows with the call rate", async () => {
    const lazy = pool({ minSize: 0 });
    expect(lazy.take()).toBeNull();
    expect(lazy.stats()).toMatchObject({ hits: 0, misses: 1 });
    await until(() => lazy.stats().ready === 1, "a stream opened for the next call");
    await lazy.close();
    expect(lazy.stats().size).toBe(0);
  });

  it("backs off when opens are refused, then recovers", async () => {
    simulator.faults.add({ kind: "throttle", where: "http", sessions: 2 });
    const throttled = pool({ minSize: 1 });
    await until(() => throttled.stats().ready === 1, "a ready stream after the refusals");
    expect(throttled.stats().failed).toBe(2);
    await throttled.close();
  });

  it("closes the streams it holds in protocol order", async () => {
    const held = pool({ minSize: 2 });
    await until(() => held.stats().ready === 2, "two ready streams");
    const before = simulator.sessions.list().length;
    await held.close();
    expect(held.stats().size).toBe(0);
    const closed = simulator.sessions.list().slice(before - 2);
    for (const r of closed) {
      expect(r.endReason).toBe("session_end");
      expect(r.received).toEqual([
        "sessionStart",
        "promptStart",
        "contentStart",
        "textInput",
        "contentEnd",
        "promptEnd",
        "sessionEnd",
      ]);
    }
  });
});
