/**
 * BridgeRegistry: one Durable Object per region that knows how the region's bridges are doing. Health
 * answers are cached for BRIDGE_HEALTH_CACHE_MS; calls handed out since a bridge's last answer count
 * towards its load, so a burst of calls spreads over the bridges. Nothing is stored: after eviction the
 * registry simply asks the bridges again.
 */
import { DurableObject } from "cloudflare:workers";
import { Logger } from "../shared/log.ts";
import { checkBridgeHealth } from "./bridge-client.ts";
import {
  afterAssignment,
  afterCheck,
  afterFailure,
  type BridgeStatus,
  chooseBridge,
  isStale,
  unknownStatus,
  unusableBecause,
} from "./bridges.ts";
import { type BridgeEndpoint, type EdgeConfig, parseEdgeConfig } from "./config.ts";
import type { EdgeEnv } from "./env.ts";

export interface BridgeSummary {
  id: string;
  region: string;
  usable: boolean;
  problem: string | null;
  activeCalls: number | null;
  maxCalls: number | null;
  checkedAtMs: number;
}

export class BridgeRegistry extends DurableObject<EdgeEnv> {
  readonly #config: EdgeConfig;
  readonly #log: Logger;
  readonly #statuses = new Map<string, BridgeStatus>();
  /** Health checks in flight, by bridge id, so concurrent picks share them. */
  readonly #checks = new Map<string, Promise<void>>();

  constructor(ctx: DurableObjectState, env: EdgeEnv) {
    super(ctx, env);
    this.#config = parseEdgeConfig(env);
    this.#log = new Logger(
      { component: "edge", object: "bridge-registry" },
      { level: this.#config.logLevel },
    );
    for (const bridge of this.#config.bridges) this.#statuses.set(bridge.id, unknownStatus(bridge));
  }

  /**
   * A healthy, least-loaded bridge of the region that is not in `exclude`, or null. Stale health is
   * refreshed first unless a bridge with fresh health can take the call (then it is refreshed behind).
   */
  async pick(exclude: readonly string[] = []): Promise<BridgeEndpoint | null> {
    const stale = this.#staleIds();
    const fresh = [...this.#statuses.values()].filter((status) => !stale.includes(status.bridge.id));
    if (stale.length > 0) {
      const refresh = Promise.all(stale.map((id) => this.#check(id)));
      if (chooseBridge(fresh, exclude) === null) await refresh;
    }
    const chosen = chooseBridge([...this.#statuses.values()], exclude);
    if (!chosen) {
      this.#log.warn("no usable bridge", { region: this.#config.bridgeRegion, bridges: this.#problems() });
      return null;
    }
    this.#statuses.set(chosen.bridge.id, afterAssignment(chosen));
    return chosen.bridge;
  }

  /** A call could not reach (or lost) this bridge: set it aside until its next health answer. */
  reportFailure(bridgeId: string, problem: string): void {
    const status = this.#statuses.get(bridgeId);
    if (status) this.#statuses.set(bridgeId, afterFailure(status, problem));
  }

  /** The region's bridges as last seen (health is refreshed when stale). */
  async summary(): Promise<BridgeSummary[]> {
    await Promise.all(this.#staleIds().map((id) => this.#check(id)));
    return [...this.#statuses.values()].map((status) => {
      const problem = unusableBecause(status);
      return {
        id: status.bridge.id,
        region: status.bridge.region,
        usable: problem === null,
        problem,
        activeCalls: status.health?.activeCalls ?? null,
        maxCalls: status.health?.maxCalls ?? null,
        checkedAtMs: status.checkedAtMs,
      };
    });
  }

  #staleIds(): string[] {
    const nowMs = Date.now();
    return [...this.#statuses.values()]
      .filter((status) => isStale(status, nowMs, this.#config.bridgeHealthCacheMs))
      .map((status) => status.bridge.id);
  }

  #check(bridgeId: string): Promise<void> {
    const inFlight = this.#checks.get(bridgeId);
    if (inFlight) return inFlight;
    const status = this.#statuses.get(bridgeId);
    if (!status) return Promise.resolve();
    const check = checkBridgeHealth(status.bridge, this.#config.bridgeTimeoutMs).then((result) => {
      const current = this.#statuses.get(bridgeId) ?? status;
      this.#statuses.set(bridgeId, afterCheck(current, result, Date.now()));
      if ("problem" in result)
        this.#log.warn("bridge health check failed", { bridgeId, problem: result.problem });
      this.#checks.delete(bridgeId);
    });
    this.#checks.set(bridgeId, check);
    return check;
  }

  #problems(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const status of this.#statuses.values()) out[status.bridge.id] = unusableBecause(status) ?? "usable";
    return out;
  }
}
