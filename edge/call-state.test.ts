import { describe, expect, it } from "vitest";
import { BridgeCloseCode } from "../shared/bridge-protocol.ts";
import {
  FAILOVER_BUDGET_MS,
  INITIAL_LINK,
  type LinkEffect,
  type LinkEvent,
  type LinkState,
  MAX_CONNECT_ATTEMPTS,
  nextCallStatus,
  stepLink,
} from "./call-state.ts";

describe("nextCallStatus", () => {
  it("moves ringing → in-progress → completed, and maps Twilio's failures to failed", () => {
    expect(nextCallStatus("ringing", "ringing")).toBe("ringing");
    expect(nextCallStatus("ringing", "in-progress")).toBe("in-progress");
    expect(nextCallStatus("in-progress", "completed")).toBe("completed");
    for (const reported of ["busy", "failed", "no-answer", "canceled"] as const) {
      expect(nextCallStatus("ringing", reported)).toBe("failed");
    }
  });

  it("never leaves a final status and never goes back", () => {
    expect(nextCallStatus("completed", "in-progress")).toBe("completed");
    expect(nextCallStatus("failed", "completed")).toBe("failed");
    expect(nextCallStatus("in-progress", "ringing")).toBe("in-progress");
  });
});

/** Runs events from the initial state; returns the final state and every effect in order. */
function run(
  events: LinkEvent[],
  from: LinkState = INITIAL_LINK,
): { state: LinkState; effects: LinkEffect[] } {
  let state = from;
  const effects: LinkEffect[] = [];
  for (const event of events) {
    const step = stepLink(state, event);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

const types = (effects: LinkEffect[]) =>
  effects.map((e) => (e.type === "record" ? `record:${e.event}` : e.type));

const opened: LinkEvent[] = [
  { type: "twilio_open", preferredBridgeId: "a", nowMs: 0 },
  { type: "start_received" },
  { type: "token_checked", valid: true },
  { type: "bridge_opened", generation: 1, bridgeId: "a" },
];

describe("stepLink", () => {
  it("connects to the preferred bridge at once and hands over when both the token and the bridge are ready", () => {
    const first = stepLink(INITIAL_LINK, opened[0] as LinkEvent);
    expect(first.effects).toEqual([{ type: "connect", generation: 1, preferredBridgeId: "a", exclude: [] }]);
    const { state, effects } = run(opened);
    expect(state.live).toBe(true);
    expect(state.startedOn).toEqual(["a"]);
    expect(effects).toContainEqual({ type: "handshake", resume: null });
  });

  it("waits for the token when the bridge opens first", () => {
    const early = run([opened[0], opened[3], opened[1]] as LinkEvent[]);
    expect(early.state.live).toBe(false);
    expect(types(early.effects)).not.toContain("handshake");
    const after = stepLink(early.state, { type: "token_checked", valid: true });
    expect(after.effects).toEqual([{ type: "handshake", resume: null }]);
  });

  it("closes both sides with UNAUTHORIZED/NORMAL on a bad stream token and never hands over", () => {
    const { state, effects } = run([
      opened[0],
      opened[3],
      opened[1],
      { type: "token_checked", valid: false },
    ] as LinkEvent[]);
    expect(state.ending).toBe("rejected");
    expect(effects).toContainEqual({
      type: "close_twilio",
      code: BridgeCloseCode.UNAUTHORIZED,
      reason: "stream token rejected",
    });
    expect(effects).toContainEqual({
      type: "close_bridge",
      generation: 1,
      code: BridgeCloseCode.NORMAL,
      reason: "stream rejected",
    });
    expect(types(effects)).not.toContain("handshake");
  });

  it("fails over when the bridge drops: excludes it, reconnects, then resumes", () => {
    const lost = run([
      ...opened,
      { type: "bridge_lost", generation: 1, bridgeId: "a", code: 1006, reason: "", nowMs: 100 },
    ]);
    expect(lost.state.live).toBe(false);
    expect(lost.state.failovers).toBe(1);
    expect(lost.effects).toContainEqual({
      type: "connect",
      generation: 2,
      preferredBridgeId: null,
      exclude: ["a"],
    });
    expect(types(lost.effects)).toContain("record:failover");
    const resumed = stepLink(lost.state, { type: "bridge_opened", generation: 2, bridgeId: "b" });
    expect(resumed.effects).toContainEqual({ type: "handshake", resume: "failover" });
    expect(resumed.state.startedOn).toEqual(["a", "b"]);
  });

  it("calls a DRAINING or GOING_AWAY close a handover", () => {
    for (const code of [BridgeCloseCode.DRAINING, BridgeCloseCode.GOING_AWAY]) {
      const { state } = run([
        ...opened,
        { type: "bridge_lost", generation: 1, bridgeId: "a", code, reason: "draining", nowMs: 5 },
        { type: "bridge_opened", generation: 2, bridgeId: "b" },
      ]);
      expect(state.lastLoss).toBe("handover");
    }
  });

  it("ends the call (Twilio closed normally) when the live bridge closes NORMAL or CALL_ENDED", () => {
    const live = run(opened).state;
    for (const code of [BridgeCloseCode.NORMAL, BridgeCloseCode.CALL_ENDED]) {
      const { state, effects } = stepLink(live, {
        type: "bridge_lost",
        generation: 1,
        bridgeId: "a",
        code,
        reason: "",
        nowMs: 5,
      });
      expect(state.ending).toBe("call-ended");
      expect(effects).toContainEqual({
        type: "close_twilio",
        code: BridgeCloseCode.NORMAL,
        reason: "call ended",
      });
      expect(types(effects)).not.toContain("connect");
    }
  });

  it("gives up after MAX_CONNECT_ATTEMPTS failed connections, closing Twilio with CALL_FAILED", () => {
    const events: LinkEvent[] = [{ type: "twilio_open", preferredBridgeId: null, nowMs: 0 }];
    for (let generation = 1; generation <= MAX_CONNECT_ATTEMPTS; generation++) {
      events.push({
        type: "bridge_lost",
        generation,
        bridgeId: `b${generation}`,
        code: 1006,
        reason: "",
        nowMs: generation,
      });
    }
    const { state, effects } = run(events);
    expect(state.ending).toBe("no-bridge");
    expect(effects.filter((e) => e.type === "connect")).toHaveLength(MAX_CONNECT_ATTEMPTS);
    expect(effects.at(-1)).toEqual({
      type: "close_twilio",
      code: BridgeCloseCode.CALL_FAILED,
      reason: "no bridge available",
    });
  });

  it("gives up once the failover budget is spent", () => {
    const { state } = run([
      ...opened,
      { type: "bridge_lost", generation: 1, bridgeId: "a", code: 1006, reason: "", nowMs: 1000 },
      {
        type: "bridge_lost",
        generation: 2,
        bridgeId: "b",
        code: 1006,
        reason: "",
        nowMs: 1001 + FAILOVER_BUDGET_MS,
      },
    ]);
    expect(state.ending).toBe("no-bridge");
  });

  it("gives up at once when no bridge is available", () => {
    const { state, effects } = run([opened[0], { type: "bridge_unavailable", generation: 1 }] as LinkEvent[]);
    expect(state.ending).toBe("no-bridge");
    expect(types(effects)).toEqual(["connect", "record:bridge-unavailable", "close_twilio"]);
  });

  it("ignores events from superseded connections and closes a late socket", () => {
    const lost = run([
      ...opened,
      { type: "bridge_lost", generation: 1, bridgeId: "a", code: 1006, reason: "", nowMs: 1 },
    ]);
    const stale = stepLink(lost.state, {
      type: "bridge_lost",
      generation: 1,
      bridgeId: "a",
      code: 1006,
      reason: "",
      nowMs: 2,
    });
    expect(stale.effects).toEqual([]);
    expect(stale.state).toBe(lost.state);
    const late = stepLink(lost.state, { type: "bridge_opened", generation: 1, bridgeId: "a" });
    expect(late.effects).toEqual([
      { type: "close_bridge", generation: 1, code: BridgeCloseCode.NORMAL, reason: "superseded" },
    ]);
  });

  it("closes the bridge NORMAL when Twilio closes, and the bridge's hangup closes Twilio", () => {
    const twilioGone = run([...opened, { type: "twilio_closed" }]);
    expect(twilioGone.state.ending).toBe("twilio-closed");
    expect(twilioGone.effects).toContainEqual({
      type: "close_bridge",
      generation: 1,
      code: BridgeCloseCode.NORMAL,
      reason: "caller hung up",
    });
    const hangup = run([...opened, { type: "hangup_requested", reason: "agent" }]);
    expect(hangup.state.ending).toBe("call-ended");
    expect(types(hangup.effects)).toEqual(
      expect.arrayContaining(["close_twilio", "close_bridge", "record:call-ended"]),
    );
    const after = stepLink(hangup.state, { type: "twilio_closed" });
    expect(after.effects).toEqual([]);
  });
});
