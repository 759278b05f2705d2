/**
 * The warm pool in a running bridge: calls take ready streams (the `ready` control says the session was
 * warm), the pool refills, /metrics reports hits, misses and the session-ready times by source, and the
 * bridge's close ends the unused streams in protocol order. The simulator charges a connection set-up
 * time, as a real region would.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLY_TEXTS } from "../bridge/simulator/replies.ts";
import { BridgePhone, newCallSid } from "./bridge-phone.ts";
import { postPrewarm } from "./bridge-requests.ts";
import { type BridgeStack, startBridgeStack, TEST_SECRET } from "./bridge-stack.ts";

const logs: Array<Record<string, unknown>> = [];
let stack: BridgeStack;
beforeAll(async () => {
  stack = await startBridgeStack({
    env: { POOL_MAX: "2", POOL_MIN: "1" },
    simulator: { connectionSetupMs: 1000 },
    logLevel: "info",
    logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  });
});
afterAll(async () => stack?.close());

async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("warm pool", () => {
  it("serves a call from a ready pooled stream rather than its own pre-warm still connecting", async () => {
    const pool = stack.bridge.pool!;
    await until(() => pool.stats().ready === 1, "a ready pooled stream", 10_000);
    const callSid = newCallSid();
    const hint = await postPrewarm(stack.bridge.url, TEST_SECRET, callSid, { callSid });
    expect(hint.status).toBe(202);
    // The pre-warm needs the whole connection set-up (a second here); the media stream comes at once.
    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET, callSid });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    expect(phone.controlsOf("ready")[0]?.sessionWarm).toBe(true);
    const ready = logs.find((line) => line.msg === "model session ready" && line.callSid === callSid);
    expect(ready).toMatchObject({ source: "pool" });
    await phone.hangUp();
    await until(() => pool.stats().ready >= 1, "the refill", 10_000);
  }, 30_000);

  it("gives calls ready streams, refills, reports itself, and closes unused streams in order", async () => {
    const pool = stack.bridge.pool!;
    await until(() => pool.stats().ready === 1, "a ready pooled stream", 10_000);
    const hitsBefore = pool.stats().hits;
    const callsBefore = stack.bridge.server.stats().callsStarted;

    const phone = await BridgePhone.connect({ baseUrl: stack.bridge.url, secret: TEST_SECRET });
    phone.start();
    await phone.waitFor(() => phone.controlsOf("turn").length === 1, 15_000, "the greeting");
    expect(phone.controlsOf("ready")[0]?.sessionWarm).toBe(true);
    expect(phone.controlsOf("turn")[0]?.assistantText).toBe(REPLY_TEXTS.greeting);
    const taken = logs.find(
      (line) => line.msg === "pooled model session taken" && line.callSid === phone.callSid,
    );
    expect(taken).toBeDefined();
    const ready = logs.find((line) => line.msg === "model session ready" && line.callSid === phone.callSid);
    expect(ready).toMatchObject({ source: "pool" });
    await phone.hangUp();
    await until(() => pool.stats().ready >= 1, "the refill", 10_000);

    const metrics = (await (await fetch(`${stack.bridge.url}/metrics`)).json()) as Record<string, unknown>;
    expect(metrics).toMatchObject({
      status: "ok",
      callsStarted: callsBefore + 1,
      pool: { hits: hitsBefore + 1, misses: 0 },
      sessionReadyMs: { pool: { count: callsBefore + 1 }, cold: { count: 0 } },
    });

    // The call's own session carried its audio; the pool's streams never did.
    const callRecord = stack.simulator.sessions.list().find((r) => r.promptName === taken?.promptName);
    expect(callRecord?.audioInputFrames).toBeGreaterThan(0);
    await stack.bridge.close();
    const idle = stack.simulator.sessions.list().filter((r) => r.audioInputFrames === 0);
    expect(idle.length).toBeGreaterThanOrEqual(1);
    for (const record of idle) {
      expect(record.endReason).toBe("session_end");
      expect(record.audioInputFrames).toBe(0);
      expect(record.received.slice(-2)).toEqual(["promptEnd", "sessionEnd"]);
    }
  }, 30_000);
});
