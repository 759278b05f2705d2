import { describe, expect, it } from "vitest";
import { newSessionRecord, SessionRegistry } from "./records.ts";

describe("SessionRegistry", () => {
  it("forgets ended sessions on clear, and keeps the live ones a pool holds open", () => {
    const registry = new SessionRegistry();
    const ended = newSessionRecord("ended", "amazon.nova-2-sonic-v1:0", [], 0);
    const live = newSessionRecord("live", "amazon.nova-2-sonic-v1:0", [], 10);
    registry.add(ended);
    registry.add(live);
    ended.endedAtMs = 20;
    ended.endReason = "session_end";
    registry.clearEnded();
    expect(registry.list().map((record) => record.id)).toEqual(["live"]);
    expect(registry.get("live")).toBe(live);
  });
});
