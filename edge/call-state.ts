/**
 * Pure transitions of one call: its status (from Twilio's callbacks and the stream) and the link between
 * Twilio's media stream and a bridge (connect, handshake, failover, end). The Durable Object feeds events
 * in and carries out the effects; nothing here does I/O.
 */
import { BridgeCloseCode, closeCodeName } from "../shared/bridge-protocol.ts";

// ---- call status ------------------------------------------------------------------------------------

export const CALL_STATUSES = ["ringing", "in-progress", "completed", "failed"] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Twilio's CallStatus values (https://www.twilio.com/docs/voice/api/call-resource#call-status-values). */
export const TWILIO_CALL_STATUSES = [
  "queued",
  "initiated",
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
] as const;
export type TwilioCallStatus = (typeof TWILIO_CALL_STATUSES)[number];

export function isFinalStatus(status: CallStatus): boolean {
  return status === "completed" || status === "failed";
}

/** Where the call goes when Twilio reports `reported`; final statuses never change. */
export function nextCallStatus(current: CallStatus, reported: TwilioCallStatus): CallStatus {
  if (isFinalStatus(current)) return current;
  switch (reported) {
    case "queued":
    case "initiated":
    case "ringing":
      return current;
    case "in-progress":
      return "in-progress";
    case "completed":
      return "completed";
    case "busy":
    case "failed":
    case "no-answer":
    case "canceled":
      return "failed";
  }
}

// ---- the media link ------------------------------------------------------------------------------------

/** How long the edge keeps trying to reach a bridge once the link is lost (or the first attempt fails). */
export const FAILOVER_BUDGET_MS = 1000;
/** Connection attempts per (re)connection, and bridge losses per call, before the call is given up. */
export const MAX_CONNECT_ATTEMPTS = 3;
export const MAX_FAILOVERS = 3;

export type ResumeReason = "failover" | "handover";
export type LinkEnding = "twilio-closed" | "call-ended" | "rejected" | "no-bridge";

export interface LinkState {
  twilio: "open" | "closed";
  auth: "awaiting-start" | "verifying" | "verified" | "rejected";
  bridge: "idle" | "connecting" | "open" | "closed";
  /** Numbers every connection attempt; events from older attempts are stale. */
  generation: number;
  bridgeId: string | null;
  /** `[resume], connected, start, buffered frames` went to the current bridge: frames now flow through. */
  live: boolean;
  /** Bridges that received a `start` (once one has, the next one needs a `resume` first). */
  startedOn: readonly string[];
  failed: readonly string[];
  attempts: number;
  reconnectingSinceMs: number | null;
  failovers: number;
  /** Why the last bridge was left: a handover (it was draining or going away) or a failover. */
  lastLoss: ResumeReason | null;
  ending: LinkEnding | null;
}

export type LinkEvent =
  | { type: "twilio_open"; preferredBridgeId: string | null; nowMs: number }
  | { type: "start_received" }
  | { type: "token_checked"; valid: boolean }
  | { type: "bridge_opened"; generation: number; bridgeId: string }
  | { type: "bridge_lost"; generation: number; bridgeId: string; code: number; reason: string; nowMs: number }
  | { type: "bridge_unavailable"; generation: number }
  | { type: "hangup_requested"; reason: string }
  | { type: "twilio_closed" };

export type StreamLogEvent =
  | "bridge-connected"
  | "bridge-lost"
  | "bridge-unavailable"
  | "failover"
  | "token-rejected"
  | "call-ended"
  | "twilio-closed";

export type LinkEffect =
  | { type: "connect"; generation: number; preferredBridgeId: string | null; exclude: readonly string[] }
  /** Send `[resume], connected, start` and the held frames; `resume` says why this bridge takes over. */
  | { type: "handshake"; resume: ResumeReason | null }
  | { type: "close_twilio"; code: number; reason: string }
  | { type: "close_bridge"; generation: number; code: number; reason: string }
  | { type: "record"; event: StreamLogEvent; detail: string };

export interface LinkStep {
  state: LinkState;
  effects: LinkEffect[];
}

export const INITIAL_LINK: LinkState = {
  twilio: "open",
  auth: "awaiting-start",
  bridge: "idle",
  generation: 0,
  bridgeId: null,
  live: false,
  startedOn: [],
  failed: [],
  attempts: 0,
  reconnectingSinceMs: null,
  failovers: 0,
  lastLoss: null,
  ending: null,
};

/** Sends the handshake when both sides are ready: the start was verified and the bridge socket is open. */
function maybeHandshake(state: LinkState, effects: LinkEffect[]): LinkState {
  if (state.live || state.auth !== "verified" || state.bridge !== "open" || state.bridgeId === null)
    return state;
  const resume = state.startedOn.length > 0 ? (state.lastLoss ?? "failover") : null;
  effects.push({ type: "handshake", resume });
  return { ...state, live: true, startedOn: [...state.startedOn, state.bridgeId] };
}

function closeBridgeIfAny(state: LinkState, effects: LinkEffect[], reason: string): LinkState {
  if (state.bridge === "connecting" || state.bridge === "open") {
    effects.push({
      type: "close_bridge",
      generation: state.generation,
      code: BridgeCloseCode.NORMAL,
      reason,
    });
  }
  return { ...state, bridge: state.bridge === "idle" ? "idle" : "closed", live: false };
}

function giveUp(state: LinkState, effects: LinkEffect[], detail: string): LinkState {
  effects.push({ type: "record", event: "bridge-unavailable", detail });
  if (state.twilio === "open") {
    effects.push({ type: "close_twilio", code: BridgeCloseCode.CALL_FAILED, reason: "no bridge available" });
  }
  return { ...state, bridge: "closed", live: false, ending: "no-bridge" };
}

export function stepLink(state: LinkState, event: LinkEvent): LinkStep {
  const effects: LinkEffect[] = [];
  switch (event.type) {
    case "twilio_open": {
      const generation = state.generation + 1;
      effects.push({ type: "connect", generation, preferredBridgeId: event.preferredBridgeId, exclude: [] });
      return {
        state: { ...state, generation, bridge: "connecting", attempts: 1, reconnectingSinceMs: event.nowMs },
        effects,
      };
    }
    case "start_received":
      if (state.auth !== "awaiting-start") return { state, effects };
      return { state: { ...state, auth: "verifying" }, effects };
    case "token_checked": {
      if (state.auth !== "verifying" || state.ending !== null) return { state, effects };
      if (event.valid) return { state: maybeHandshake({ ...state, auth: "verified" }, effects), effects };
      effects.push({ type: "record", event: "token-rejected", detail: "stream token rejected" });
      effects.push({
        type: "close_twilio",
        code: BridgeCloseCode.UNAUTHORIZED,
        reason: "stream token rejected",
      });
      const closed = closeBridgeIfAny(state, effects, "stream rejected");
      return { state: { ...closed, auth: "rejected", ending: "rejected" }, effects };
    }
    case "bridge_opened": {
      if (event.generation !== state.generation || state.ending !== null) {
        const reason = state.ending === null ? "superseded" : "call over";
        effects.push({
          type: "close_bridge",
          generation: event.generation,
          code: BridgeCloseCode.NORMAL,
          reason,
        });
        return { state, effects };
      }
      effects.push({ type: "record", event: "bridge-connected", detail: event.bridgeId });
      const opened: LinkState = {
        ...state,
        bridge: "open",
        bridgeId: event.bridgeId,
        attempts: 0,
        reconnectingSinceMs: null,
      };
      return { state: maybeHandshake(opened, effects), effects };
    }
    case "bridge_lost": {
      if (event.generation !== state.generation || state.ending !== null) return { state, effects };
      const wasLive = state.live;
      const endsCall = event.code === BridgeCloseCode.NORMAL || event.code === BridgeCloseCode.CALL_ENDED;
      if (wasLive && endsCall) {
        effects.push({ type: "record", event: "call-ended", detail: closeCodeName(event.code) });
        effects.push({ type: "close_twilio", code: BridgeCloseCode.NORMAL, reason: "call ended" });
        return { state: { ...state, bridge: "closed", live: false, ending: "call-ended" }, effects };
      }
      const lostId = event.bridgeId;
      const failed = state.failed.includes(lostId) ? state.failed : [...state.failed, lostId];
      const detail = `${lostId} ${closeCodeName(event.code)}${event.reason ? ` ${event.reason}` : ""}`;
      effects.push({ type: "record", event: "bridge-lost", detail });
      let next: LinkState = { ...state, bridge: "closed", bridgeId: null, live: false, failed };
      if (state.bridge === "open") {
        const handover = event.code === BridgeCloseCode.DRAINING || event.code === BridgeCloseCode.GOING_AWAY;
        next = {
          ...next,
          failovers: state.failovers + 1,
          attempts: 0,
          reconnectingSinceMs: event.nowMs,
          lastLoss: handover ? "handover" : "failover",
        };
      }
      const since = next.reconnectingSinceMs ?? event.nowMs;
      if (
        next.failovers > MAX_FAILOVERS ||
        next.attempts >= MAX_CONNECT_ATTEMPTS ||
        event.nowMs - since > FAILOVER_BUDGET_MS
      ) {
        return { state: giveUp(next, effects, "no bridge answered in time"), effects };
      }
      const generation = state.generation + 1;
      if (state.bridge === "open")
        effects.push({ type: "record", event: "failover", detail: `from ${lostId}` });
      effects.push({ type: "connect", generation, preferredBridgeId: null, exclude: failed });
      next = {
        ...next,
        generation,
        bridge: "connecting",
        attempts: next.attempts + 1,
        reconnectingSinceMs: since,
      };
      return { state: next, effects };
    }
    case "bridge_unavailable":
      if (event.generation !== state.generation || state.ending !== null) return { state, effects };
      return { state: giveUp(state, effects, "no healthy bridge"), effects };
    case "hangup_requested": {
      if (state.ending !== null) return { state, effects };
      effects.push({ type: "record", event: "call-ended", detail: event.reason });
      if (state.twilio === "open")
        effects.push({ type: "close_twilio", code: BridgeCloseCode.NORMAL, reason: "call ended" });
      const closed = closeBridgeIfAny(state, effects, "call ended");
      return { state: { ...closed, ending: "call-ended" }, effects };
    }
    case "twilio_closed": {
      if (state.twilio === "closed") return { state, effects };
      const closedTwilio: LinkState = { ...state, twilio: "closed" };
      if (state.ending !== null) return { state: closedTwilio, effects };
      effects.push({ type: "record", event: "twilio-closed", detail: "stream closed by Twilio" });
      const closed = closeBridgeIfAny(closedTwilio, effects, "caller hung up");
      return { state: { ...closed, ending: "twilio-closed" }, effects };
    }
  }
}
