import { env, listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CallSession } from "./call-session.ts";
import { newCallSid } from "./test-support/harness.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const RETENTION_MS = 30 * DAY_MS;

function stub(callSid: string): DurableObjectStub<CallSession> {
  return env.CALL_SESSION.get(env.CALL_SESSION.idFromName(callSid));
}

async function ringing(callSid: string, atMs = Date.now()) {
  const session = stub(callSid);
  await session.recordRinging({
    callSid,
    accountSid: `AC${"2".repeat(32)}`,
    from: "+14155550111",
    to: "+18005550122",
    bridgeId: "bridge-a",
    bridgeRegion: "test",
    atMs,
  });
  return session;
}

describe("CallSession", () => {
  it("records a ringing call with its bridge, and applies status callbacks in order", async () => {
    const callSid = newCallSid();
    const session = await ringing(callSid, 1_000);
    expect(await session.getRecord()).toMatchObject({
      callSid,
      status: "ringing",
      bridge: { id: "bridge-a", region: "test" },
      createdAtMs: 1_000,
      endedAtMs: null,
      transcript: [],
      turns: [],
      badFrames: {},
    });
    expect(await session.applyStatusCallback("ringing", 1_500)).toEqual({ status: "ringing" });
    expect(await session.applyStatusCallback("in-progress", 2_000)).toEqual({ status: "in-progress" });
    expect(await session.applyStatusCallback("no-answer", 3_000)).toEqual({ status: "failed" });
    expect(await session.applyStatusCallback("completed", 4_000)).toEqual({ status: "failed" });
    const record = await session.getRecord();
    expect(record).toMatchObject({
      status: "failed",
      endReason: "no-answer",
      endedAtMs: 3_000,
      updatedAtMs: 3_000,
    });
    expect(record?.statusHistory.map((h) => h.status)).toEqual([
      "ringing",
      "ringing",
      "in-progress",
      "failed",
      "failed",
    ]);
  });

  it("keeps the first record when Twilio posts /voice again, updating only the bridge", async () => {
    const callSid = newCallSid();
    const session = await ringing(callSid, 1_000);
    await session.recordRinging({
      callSid,
      accountSid: null,
      from: null,
      to: null,
      bridgeId: "bridge-b",
      bridgeRegion: "test",
      atMs: 2_000,
    });
    const record = await session.getRecord();
    expect(record).toMatchObject({ from: "+14155550111", createdAtMs: 1_000, bridge: { id: "bridge-b" } });
    expect(record?.statusHistory).toHaveLength(1);
  });

  it("answers unknown calls with null/false and leaves no storage behind", async () => {
    const callSid = newCallSid();
    const session = stub(callSid);
    expect(await session.getRecord()).toBeNull();
    expect(await session.applyStatusCallback("completed", 1)).toBeNull();
    expect(await session.recordStreamStatus("stream-started", "", 1)).toBe(false);
    const tables = await runInDurableObject(session, (_instance, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray(),
    );
    expect(tables).toEqual([]);
    expect(await runInDurableObject(session, (_instance, state) => state.storage.getAlarm())).toBeNull();
  });

  it("schedules deletion RETENTION_DAYS after the end, and deletes the record when due", async () => {
    const callSid = newCallSid();
    const endedAtMs = Date.now();
    const session = await ringing(callSid, endedAtMs - 60_000);
    await session.applyStatusCallback("completed", endedAtMs);
    const alarm = await runInDurableObject(session, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe(endedAtMs + RETENTION_MS);

    // Not due yet: the alarm re-arms and the record stays.
    expect(await runDurableObjectAlarm(session)).toBe(true);
    expect(await session.getRecord()).not.toBeNull();

    // Move the end into the past, beyond retention: the alarm deletes everything.
    await runInDurableObject(session, (_instance, state) => {
      state.storage.sql.exec("UPDATE call SET ended_at_ms = ?", endedAtMs - RETENTION_MS - 1);
    });
    expect(await runDurableObjectAlarm(session)).toBe(true);
    expect(await session.getRecord()).toBeNull();
    const tables = await runInDurableObject(session, (_instance, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray(),
    );
    expect(tables).toEqual([]);
    expect(await runInDurableObject(session, (_instance, state) => state.storage.getAlarm())).toBeNull();
  });

  it("cleans up a call that never ended, a day plus retention after it began", async () => {
    const callSid = newCallSid();
    const createdAtMs = Date.now();
    const session = await ringing(callSid, createdAtMs);
    expect(await runInDurableObject(session, (_i, state) => state.storage.getAlarm())).toBe(
      createdAtMs + DAY_MS + RETENTION_MS,
    );
    expect(
      (await listDurableObjectIds(env.CALL_SESSION)).some((id) =>
        id.equals(env.CALL_SESSION.idFromName(callSid)),
      ),
    ).toBe(true);
  });
});
