/**
 * Bridge selection, pure: which configured bridge gets a call, from the last health answers. A bridge is
 * usable when its health is fresh enough to trust, it says `ok` (not draining), speaks our protocol
 * version, serves our region and has room; among those, the least loaded wins.
 */
import { BRIDGE_PROTOCOL_VERSION, type BridgeHealth } from "../shared/bridge-protocol.ts";
import type { BridgeEndpoint } from "./config.ts";

export interface BridgeStatus {
  bridge: BridgeEndpoint;
  /** The last health answer, or null when the last check failed (or there was none yet). */
  health: BridgeHealth | null;
  checkedAtMs: number;
  /** Why the last check failed, or why the bridge was set aside. */
  problem: string | null;
  /** Calls handed to this bridge since its last health answer (its activeCalls does not count them yet). */
  assignedSinceCheck: number;
}

export function unknownStatus(bridge: BridgeEndpoint): BridgeStatus {
  return { bridge, health: null, checkedAtMs: 0, problem: "not checked yet", assignedSinceCheck: 0 };
}

/** A bridge whose health check failed is asked again after this long (not on every call). */
export const FAILED_CHECK_RETRY_MS = 5000;

export function isStale(status: BridgeStatus, nowMs: number, cacheMs: number): boolean {
  if (status.checkedAtMs === 0) return true;
  const trustMs = status.health === null ? Math.max(cacheMs, FAILED_CHECK_RETRY_MS) : cacheMs;
  return nowMs - status.checkedAtMs >= trustMs;
}

/** Why a bridge may not take a call, or null when it may. */
export function unusableBecause(status: BridgeStatus): string | null {
  const { health } = status;
  if (!health) return status.problem ?? "no health answer";
  if (health.status !== "ok") return `status ${health.status}`;
  if (health.protocolVersion !== BRIDGE_PROTOCOL_VERSION) return `protocol ${health.protocolVersion}`;
  if (health.region !== status.bridge.region) return `region ${health.region}`;
  if (health.activeCalls + status.assignedSinceCheck >= health.maxCalls) return "full";
  return null;
}

export function loadRatio(status: BridgeStatus): number {
  const health = status.health;
  if (!health || health.maxCalls === 0) return Number.POSITIVE_INFINITY;
  return (health.activeCalls + status.assignedSinceCheck) / health.maxCalls;
}

/** The least-loaded usable bridge not in `exclude` (ties: fewer calls, then id), or null. */
export function chooseBridge(
  statuses: readonly BridgeStatus[],
  exclude: readonly string[],
): BridgeStatus | null {
  let best: BridgeStatus | null = null;
  for (const status of statuses) {
    if (exclude.includes(status.bridge.id) || unusableBecause(status) !== null) continue;
    if (best === null || compareLoad(status, best) < 0) best = status;
  }
  return best;
}

function compareLoad(a: BridgeStatus, b: BridgeStatus): number {
  const byRatio = loadRatio(a) - loadRatio(b);
  if (byRatio !== 0) return byRatio;
  const callsA = (a.health?.activeCalls ?? 0) + a.assignedSinceCheck;
  const callsB = (b.health?.activeCalls ?? 0) + b.assignedSinceCheck;
  if (callsA !== callsB) return callsA - callsB;
  return a.bridge.id < b.bridge.id ? -1 : a.bridge.id > b.bridge.id ? 1 : 0;
}

/** The status after a health check answered (health) or failed (problem). */
export function afterCheck(
  status: BridgeStatus,
  result: { health: BridgeHealth } | { problem: string },
  nowMs: number,
): BridgeStatus {
  if ("health" in result) {
    return { ...status, health: result.health, checkedAtMs: nowMs, problem: null, assignedSinceCheck: 0 };
  }
  return { ...status, health: null, checkedAtMs: nowMs, problem: result.problem, assignedSinceCheck: 0 };
}

/** A bridge that just failed a call is set aside until its next health check. */
export function afterFailure(status: BridgeStatus, problem: string): BridgeStatus {
  return { ...status, health: null, checkedAtMs: 0, problem, assignedSinceCheck: 0 };
}

export function afterAssignment(status: BridgeStatus): BridgeStatus {
  return { ...status, assignedSinceCheck: status.assignedSinceCheck + 1 };
}
