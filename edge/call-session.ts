/**
 * CallSession: one Durable Object per call (idFromName(CallSid)). It owns the call's record (SQLite,
 * call-store.ts), applies Twilio's status callbacks, relays the media stream to a bridge (media-relay.ts)
 * and deletes everything RETENTION_DAYS after the call ended (alarm).
 *
 * Twilio's socket is accepted with the standard API (not hibernation): the object holds the outbound
 * bridge socket for the whole call anyway, so it stays in memory while the call lasts.
 */
import { DurableObject } from "cloudflare:workers";
import type { BridgeControl } from "../shared/bridge-protocol.ts";
import { describeError, errorCode } from "../shared/errors.ts";
import { Logger } from "../shared/log.ts";
import { verifyToken } from "../shared/signed-token.ts";
import type { TwilioStart } from "../shared/twilio-media.ts";
import { openBridgeSocket, signBridgeToken } from "./bridge-client.ts";
import {
  type CallStatus,
  isFinalStatus,
  type LinkEnding,
  nextCallStatus,
  type ResumeReason,
  type StreamLogEvent,
  type TwilioCallStatus,
} from "./call-state.ts";
import { type CallRecord, CallStore, type RingingCall } from "./call-store.ts";
import { type BridgeEndpoint, type EdgeConfig, parseEdgeConfig } from "./config.ts";
import { DIRECTORY_NAME, type EdgeEnv, registryName } from "./env.ts";
import { MediaRelay, type RelayHost } from "./media-relay.ts";
import { buildResumeFrame } from "./resume-history.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
/** A call that never reports an end is cleaned up this long after it was created (plus retention). */
const MAX_CALL_MS = DAY_MS;

export const STREAM_EVENTS = ["stream-started", "stream-stopped", "stream-error"] as const;
export type TwilioStreamEvent = (typeof STREAM_EVENTS)[number];

export class CallSession extends DurableObject<EdgeEnv> {
  readonly #config: EdgeConfig;
  #log: Logger;
  #store: CallStore | null;
  #relay: MediaRelay | null = null;

  constructor(ctx: DurableObjectState, env: EdgeEnv) {
    super(ctx, env);
    this.#config = parseEdgeConfig(env);
    this.#store = CallStore.open(ctx.storage.sql);
    const context = { component: "edge", callSid: this.#store?.callSid };
    this.#log = new Logger(context, { level: this.#config.logLevel });
  }

  /** /voice answered the call: record it as ringing, with the bridge chosen for it (if any). */
  async recordRinging(call: RingingCall): Promise<void> {
    const created = this.#store === null;
    this.#store = CallStore.create(this.ctx.storage.sql, call);
    this.#log = new Logger({ component: "edge", callSid: call.callSid }, { level: this.#config.logLevel });
    if (call.bridgeId === null)
      this.#store.addStreamEvent("bridge-unavailable", "no healthy bridge at answer", call.atMs);
    if (created) await this.ctx.storage.setAlarm(call.atMs + MAX_CALL_MS + this.#retentionMs());
  }

  /** A status callback from Twilio; false when this call is unknown. */
  async applyStatusCallback(
    reported: TwilioCallStatus,
    atMs: number,
  ): Promise<{ status: CallStatus } | null> {
    const store = this.#store;
    if (!store) return null;
    const current = store.summary().status;
    const status = nextCallStatus(current, reported);
    const changed = store.applyStatus({ status, reported, source: "status-callback", atMs }, reported);
    if (changed) await this.#afterStatusChange(status, atMs);
    return { status: store.summary().status };
  }

  /** A `<Stream statusCallback>` event; false when this call is unknown. */
  recordStreamStatus(event: TwilioStreamEvent, detail: string, atMs: number): boolean {
    if (!this.#store) return false;
    this.#store.addStreamEvent(event, detail, atMs);
    return true;
  }

  /** The call record (with bad-frame counts not yet stored), or null for an unknown call. */
  getRecord(): CallRecord | null {
    return this.#store?.read(this.#relay?.peekBadFrames()) ?? null;
  }

  /** The media WebSocket upgrade (its Twilio signature was checked by the Worker). */
  override async fetch(request: Request): Promise<Response> {
    const store = this.#store;
    const callSid = new URL(request.url).pathname.split("/").pop() ?? "";
    if (!store || store.callSid !== callSid) return new Response("unknown call", { status: 404 });
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const summary = store.summary();
    if (this.#relay !== null || isFinalStatus(summary.status)) {
      return new Response("this call already has a stream", { status: 409 });
    }
    const pair = new WebSocketPair();
    this.#relay = new MediaRelay(pair[1], this.#relayHost(store), summary.bridgeId);
    this.#log.info("media stream accepted", { preferredBridgeId: summary.bridgeId });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async alarm(): Promise<void> {
    const store = this.#store;
    if (this.#relay !== null && this.#relay.state.ending === null) {
      await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
      return;
    }
    if (store) {
      const { endedAtMs, createdAtMs } = store.summary();
      const dueAtMs = (endedAtMs ?? createdAtMs + MAX_CALL_MS) + this.#retentionMs();
      if (dueAtMs > Date.now()) {
        await this.ctx.storage.setAlarm(dueAtMs);
        return;
      }
    }
    this.#log.info("call record deleted (retention)");
    this.#store = null;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  #retentionMs(): number {
    return this.#config.retentionDays * DAY_MS;
  }

  async #afterStatusChange(status: CallStatus, atMs: number): Promise<void> {
    const store = this.#store;
    if (!store) return;
    if (isFinalStatus(status)) {
      await this.ctx.storage.setAlarm(atMs + this.#retentionMs());
      this.#log.info("call finalised", { status });
    }
    try {
      const directory = this.env.CALL_DIRECTORY.get(this.env.CALL_DIRECTORY.idFromName(DIRECTORY_NAME));
      await directory.setStatus(store.callSid, status, atMs);
    } catch (error) {
      this.#log.warn("directory update failed", { code: errorCode(error), error: describeError(error) });
    }
  }

  #setStatusFromStream(status: CallStatus, reported: string, endReason: string | null): void {
    const store = this.#store;
    if (!store) return;
    const atMs = Date.now();
    if (store.applyStatus({ status, reported, source: "stream", atMs }, endReason)) {
      this.ctx.waitUntil(this.#afterStatusChange(status, atMs));
    }
  }

  #relayHost(store: CallStore): RelayHost {
    const config = this.#config;
    const callSid = store.callSid;
    const registry = () =>
      this.env.BRIDGE_REGISTRY.get(this.env.BRIDGE_REGISTRY.idFromName(registryName(config.bridgeRegion)));
    return {
      callSid,
      log: this.#log,
      verifyStreamToken: async (token) => {
        if (token === undefined) return false;
        try {
          await verifyToken(config.bridgeSecret, token, {
            purpose: "stream",
            subject: callSid,
            nowMs: Date.now(),
          });
          return true;
        } catch (error) {
          this.#log.warn("stream token rejected", { code: errorCode(error), error: describeError(error) });
          return false;
        }
      },
      chooseBridge: async (preferredBridgeId, exclude) => {
        const preferred = config.bridges.find((bridge) => bridge.id === preferredBridgeId);
        if (preferred && !exclude.includes(preferred.id)) return preferred;
        return registry().pick([...exclude]);
      },
      openBridge: async (bridge: BridgeEndpoint) => {
        const token = await signBridgeToken(
          config.bridgeSecret,
          callSid,
          config.bridgeTokenTtlMs,
          Date.now(),
        );
        return openBridgeSocket(bridge, callSid, token, config.bridgeTimeoutMs);
      },
      reportBridgeFailure: (bridgeId, problem) => {
        this.ctx.waitUntil(
          registry()
            .reportFailure(bridgeId, problem)
            .catch((error: unknown) =>
              this.#log.warn("registry unreachable", { error: describeError(error) }),
            ),
        );
      },
      resumeFrame: (reason: ResumeReason) =>
        buildResumeFrame({
          callSid,
          reason,
          turns: store.turns(),
          transcript: store.transcript(),
          callStartedAtMs: store.summary().createdAtMs,
        }),
      onStreamStart: (start: TwilioStart) => {
        const atMs = Date.now();
        store.setStream(start.streamSid, atMs);
        store.addStreamEvent("twilio-start", start.streamSid, atMs);
      },
      onStreamEvent: (event: StreamLogEvent, detail: string) => {
        store.addStreamEvent(event, detail, Date.now());
        if (event === "failover" || event === "bridge-unavailable") this.#log.warn(event, { detail });
      },
      onBridgeConnected: (bridgeId) => {
        store.setStreamBridge(bridgeId, null, Date.now());
        if (store.summary().status === "ringing") this.#setStatusFromStream("in-progress", "stream", null);
      },
      onControl: (message: BridgeControl, frame: string) => this.#onControl(store, message, frame),
      onEnded: (ending: LinkEnding) => this.#onStreamEnded(store, ending),
    };
  }

  #onControl(store: CallStore, message: BridgeControl, frame: string): void {
    const atMs = Date.now();
    switch (message.bridge) {
      case "ready":
        store.setStreamBridge(message.bridgeId, message.sessionWarm, atMs);
        store.addStreamEvent("bridge-ready", `${message.bridgeId} warm=${message.sessionWarm}`, atMs);
        return;
      case "transcript":
        store.addTranscript(message);
        return;
      case "turn":
        store.putTurn(message.turnIndex, frame, atMs);
        return;
      case "hangup":
        store.addStreamEvent("bridge-hangup", message.reason, atMs);
        this.#log.info("bridge hung up", { reason: message.reason });
        return;
      case "error":
        store.addStreamEvent("bridge-error", `${message.code}: ${message.message}`, atMs);
        this.#log.warn("bridge reported an error", { code: message.code, detail: message.message });
        return;
    }
  }

  #onStreamEnded(store: CallStore, ending: LinkEnding): void {
    const relay = this.#relay;
    if (relay) store.addBadFrames(relay.takeBadFrames());
    this.#log.info("media stream ended", { ending, failovers: relay?.state.failovers ?? 0 });
    switch (ending) {
      case "twilio-closed":
      case "call-ended":
        this.#setStatusFromStream("completed", ending, ending);
        return;
      case "rejected":
        this.#setStatusFromStream("failed", ending, "bad_token");
        return;
      case "no-bridge":
        this.#setStatusFromStream("failed", ending, "bridge_unavailable");
        return;
    }
  }
}
