import { describe, expect, it } from "vitest";
import { BRIDGE_PROTOCOL_VERSION, type BridgeHealth } from "../shared/bridge-protocol.ts";
import {
  afterAssignment,
  afterCheck,
  afterFailure,
  type BridgeStatus,
  chooseBridge,
  FAILED_CHECK_RETRY_MS,
  isStale,
  unknownStatus,
  unusableBecause,
} from "./bridges.ts";

function status(id: string, health: Partial<BridgeHealth> | null, assigned = 0): BridgeStatus {
  const bridge = { id, url: `http://${id}`, region: "r1" };
  if (health === null) return unknownStatus(bridge);
  const full: BridgeHealth = {
    status: "ok",
    bridgeId: id,
    region: "r1",
    protocolVersion: BRIDGE_PROTOCOL_VERSION,
    activeCalls: 0,
    maxCalls: 10,
    ...health,
  };
  return { ...afterCheck(unknownStatus(bridge), { health: full }, 1000), assignedSinceCheck: assigned };
}

describe("chooseBridge", () => {
  it("picks the least-loaded usable bridge, by ratio then calls then id", () => {
    expect(
      chooseBridge([status("a", { activeCalls: 5 }), status("b", { activeCalls: 2 })], [])?.bridge.id,
    ).toBe("b");
    expect(
      chooseBridge(
        [status("a", { activeCalls: 5, maxCalls: 100 }), status("b", { activeCalls: 2, maxCalls: 10 })],
        [],
      )?.bridge.id,
    ).toBe("a");
    expect(chooseBridge([status("b", {}), status("a", {})], [])?.bridge.id).toBe("a");
  });

  it("skips draining, full, wrong-version, wrong-region, unchecked and excluded bridges", () => {
    const candidates = [
      status("draining", { status: "draining" }),
      status("full", { activeCalls: 10 }),
      status("old", { protocolVersion: BRIDGE_PROTOCOL_VERSION + 1 }),
      status("moved", { region: "r2" }),
      status("unknown", null),
      status("excluded", {}),
    ];
    expect(chooseBridge(candidates, ["excluded"])).toBeNull();
    expect(candidates.map(unusableBecause)).toEqual([
      "status draining",
      "full",
      `protocol ${BRIDGE_PROTOCOL_VERSION + 1}`,
      "region r2",
      "not checked yet",
      null,
    ]);
  });

  it("counts calls handed out since the last health answer", () => {
    let a = status("a", { activeCalls: 0 });
    const b = status("b", { activeCalls: 1 });
    expect(chooseBridge([a, b], [])?.bridge.id).toBe("a");
    a = afterAssignment(afterAssignment(a));
    expect(chooseBridge([a, b], [])?.bridge.id).toBe("b");
    expect(unusableBecause(afterAssignment(status("c", { activeCalls: 9 })))).toBe("full");
  });

  it("sets a failed bridge aside until it is checked again", () => {
    const failed = afterFailure(status("a", {}), "socket dropped");
    expect(unusableBecause(failed)).toBe("socket dropped");
    expect(isStale(failed, 1001, 60_000)).toBe(true);
    expect(isStale(status("b", {}), 1500, 1000)).toBe(false);
    expect(isStale(status("b", {}), 2000, 1000)).toBe(true);
    const unreachable = afterCheck(status("c", {}), { problem: "connection refused" }, 1000);
    expect(isStale(unreachable, 1000 + FAILED_CHECK_RETRY_MS - 1, 0)).toBe(false);
    expect(isStale(unreachable, 1000 + FAILED_CHECK_RETRY_MS, 0)).toBe(true);
  });
});
