/**
 * MediaRelay: the two WebSockets of one call inside its Durable Object, Twilio's (accepted here) and the
 * bridge's (opened from here), and the frames between them.
 *
 * Per frame the work is small on purpose: a Twilio media frame is checked for size and shape and sent on
 * as the same string; a bridge frame is either a control message (`{"bridge":…`, parsed and handled) or
 * a Twilio-bound frame (media checked for shape, others validated) sent on as is. Only Twilio's
 * connected/start/stop/dtmf/mark frames are parsed. Until the bridge is ready, Twilio's frames are held
 * (bounded); connected and start are kept for a replay on failover. Link decisions are in call-state.ts.
 */
import { type BridgeControl, closeCodeName, parseBridgeControl } from "../shared/bridge-protocol.ts";
import { describeError, errorCode } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import { parseTwilioInbound, type TwilioStart } from "../shared/twilio-media.ts";
import { BadFrames } from "./bad-frames.ts";
import {
  INITIAL_LINK,
  type LinkEffect,
  type LinkEnding,
  type LinkEvent,
  type LinkState,
  type ResumeReason,
  type StreamLogEvent,
  stepLink,
} from "./call-state.ts";
import type { BridgeEndpoint } from "./config.ts";
import { checkBridgeFrame, checkTwilioFrame } from "./frame-checks.ts";

/** Frames held while no bridge is ready: 10 s of 20 ms media. */
export const MAX_HELD_FRAMES = 500;

/** What the relay needs from the call's Durable Object. */
export interface RelayHost {
  readonly callSid: string;
  readonly log: Logger;
  verifyStreamToken(token: string | undefined): Promise<boolean>;
  chooseBridge(preferredBridgeId: string | null, exclude: readonly string[]): Promise<BridgeEndpoint | null>;
  openBridge(bridge: BridgeEndpoint): Promise<WebSocket>;
  reportBridgeFailure(bridgeId: string, problem: string): void;
  resumeFrame(reason: ResumeReason): string;
  onStreamStart(start: TwilioStart): void;
  onStreamEvent(event: StreamLogEvent, detail: string): void;
  onBridgeConnected(bridgeId: string): void;
  /** ready, transcript, turn, error (a hangup is also passed here, then acted on by the relay). */
  onControl(message: BridgeControl, frame: string): void;
  onEnded(ending: LinkEnding): void;
}

export class MediaRelay {
  readonly #twilio: WebSocket;
  readonly #host: RelayHost;
  #state: LinkState = INITIAL_LINK;
  /** The bridge socket frames go to, once the handshake went out (state.live). */
  #live: WebSocket | null = null;
  /** Open bridge sockets by generation (normally one; two for a moment during a failover). */
  readonly #sockets = new Map<number, WebSocket>();
  readonly #bridgeIds = new Map<number, string>();
  #connectedFrame: string | null = null;
  #startFrame: string | null = null;
  #held: string[] = [];
  readonly #badFrames: BadFrames;

  constructor(twilio: WebSocket, host: RelayHost, preferredBridgeId: string | null) {
    this.#twilio = twilio;
    this.#host = host;
    this.#badFrames = new BadFrames(host.log);
    twilio.accept();
    twilio.addEventListener("message", (event) => this.#onTwilioMessage(event.data));
    twilio.addEventListener("close", (event) => {
      this.#closeQuietly(twilio, event.code === 1005 ? 1000 : event.code, "closed");
      this.#dispatch({ type: "twilio_closed" });
    });
    twilio.addEventListener("error", () => this.#dispatch({ type: "twilio_closed" }));
    this.#dispatch({ type: "twilio_open", preferredBridgeId, nowMs: Date.now() });
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Bad-frame counts since the last call, for the call record; the relay starts counting afresh. */
  takeBadFrames(): Map<string, number> {
    return this.#badFrames.take();
  }

  peekBadFrames(): ReadonlyMap<string, number> {
    return this.#badFrames.peek();
  }

  // ---- Twilio → bridge -------------------------------------------------------------------------------

  #onTwilioMessage(data: unknown): void {
    if (typeof data !== "string") {
      this.#bad("twilio", "binary_frame");
      return;
    }
    const verdict = checkTwilioFrame(data);
    if (verdict === "media") this.#toBridge(data);
    else if (verdict === "event") this.#onTwilioEvent(data);
    else this.#bad("twilio", verdict);
  }

  #onTwilioEvent(frame: string): void {
    let message: ReturnType<typeof parseTwilioInbound>;
    try {
      message = parseTwilioInbound(frame);
    } catch (error) {
      this.#bad("twilio", errorCode(error), describeError(error));
      return;
    }
    switch (message.event) {
      case "connected":
        if (this.#connectedFrame !== null || this.#startFrame !== null) {
          this.#bad("twilio", "out_of_order", "connected after connected or start");
          return;
        }
        this.#connectedFrame = frame;
        return;
      case "start":
        this.#onStart(message, frame);
        return;
      default:
        this.#toBridge(frame);
    }
  }

  #onStart(start: TwilioStart, frame: string): void {
    if (this.#startFrame !== null) {
      this.#bad("twilio", "out_of_order", "a second start");
      return;
    }
    this.#startFrame = frame;
    this.#dispatch({ type: "start_received" });
    this.#host.onStreamStart(start);
    const sameCall = start.start.callSid === this.#host.callSid;
    const check = sameCall
      ? this.#host.verifyStreamToken(start.start.customParameters.token)
      : Promise.resolve(false);
    check
      .catch(() => false)
      .then((valid) => {
        if (!valid)
          this.#bad("twilio", "bad_token", sameCall ? "stream token rejected" : "start is for another call");
        this.#dispatch({ type: "token_checked", valid });
      });
  }

  #toBridge(frame: string): void {
    const live = this.#live;
    if (live === null) {
      this.#hold(frame);
      return;
    }
    try {
      live.send(frame);
    } catch {
      // The socket died before its close event: keep the frame for the next bridge.
      this.#hold(frame);
      this.#onBridgeGone(this.#state.generation, 1006, "send failed");
    }
  }

  #hold(frame: string): void {
    if (this.#state.ending !== null) return;
    if (this.#startFrame === null) {
      this.#bad("twilio", "out_of_order", "a frame before start");
      return;
    }
    if (this.#held.length >= MAX_HELD_FRAMES) {
      this.#held.shift();
      this.#bad("twilio", "held_overflow");
    }
    this.#held.push(frame);
  }

  // ---- bridge → Twilio -------------------------------------------------------------------------------

  #onBridgeMessage(generation: number, data: unknown): void {
    if (generation !== this.#state.generation || this.#state.ending !== null) return;
    if (typeof data !== "string") {
      this.#bad("bridge", "binary_frame");
      return;
    }
    const verdict = checkBridgeFrame(data);
    if (verdict === "twilio") {
      try {
        this.#twilio.send(data);
      } catch {
        // Twilio's socket is closing; its close event ends the call.
      }
    } else if (verdict === "control") this.#onControl(data);
    else this.#bad("bridge", verdict);
  }

  #onControl(frame: string): void {
    let message: BridgeControl;
    try {
      message = parseBridgeControl(frame);
    } catch (error) {
      this.#bad("bridge", errorCode(error), describeError(error));
      return;
    }
    this.#host.onControl(message, frame);
    if (message.bridge === "hangup") this.#dispatch({ type: "hangup_requested", reason: message.reason });
  }

  // ---- link --------------------------------------------------------------------------------------------

  #dispatch(event: LinkEvent): void {
    const before = this.#state;
    const { state, effects } = stepLink(before, event);
    this.#state = state;
    if (!state.live) this.#live = null;
    for (const effect of effects) this.#run(effect);
    if (before.ending === null && state.ending !== null) {
      this.#held = [];
      this.#host.onEnded(state.ending);
    }
  }

  #run(effect: LinkEffect): void {
    switch (effect.type) {
      case "connect":
        void this.#connect(effect.generation, effect.preferredBridgeId, effect.exclude);
        return;
      case "handshake":
        this.#handshake(effect.resume);
        return;
      case "close_twilio":
        this.#closeQuietly(this.#twilio, effect.code, effect.reason);
        return;
      case "close_bridge": {
        const socket = this.#sockets.get(effect.generation);
        this.#forget(effect.generation);
        if (socket) this.#closeQuietly(socket, effect.code, effect.reason);
        return;
      }
      case "record":
        this.#host.onStreamEvent(effect.event, effect.detail);
        return;
    }
  }

  async #connect(
    generation: number,
    preferredBridgeId: string | null,
    exclude: readonly string[],
  ): Promise<void> {
    let bridge: BridgeEndpoint | null = null;
    try {
      bridge = await this.#host.chooseBridge(preferredBridgeId, exclude);
    } catch (error) {
      this.#host.log.error("bridge choice failed", { code: errorCode(error), error: describeError(error) });
    }
    if (!bridge) return this.#dispatch({ type: "bridge_unavailable", generation });
    let socket: WebSocket;
    try {
      socket = await this.#host.openBridge(bridge);
    } catch (error) {
      const problem = describeError(error);
      this.#host.log.warn("bridge connection failed", {
        bridgeId: bridge.id,
        code: errorCode(error),
        problem,
      });
      this.#host.reportBridgeFailure(bridge.id, problem);
      const nowMs = Date.now();
      return this.#dispatch({
        type: "bridge_lost",
        generation,
        bridgeId: bridge.id,
        code: 1006,
        reason: "",
        nowMs,
      });
    }
    const bridgeId = bridge.id;
    this.#sockets.set(generation, socket);
    this.#bridgeIds.set(generation, bridgeId);
    socket.addEventListener("message", (event) => this.#onBridgeMessage(generation, event.data));
    socket.addEventListener("close", (event) => this.#onBridgeGone(generation, event.code, event.reason));
    socket.addEventListener("error", () => this.#onBridgeGone(generation, 1006, "socket error"));
    this.#dispatch({ type: "bridge_opened", generation, bridgeId });
    if (this.#state.generation === generation && this.#state.bridge === "open")
      this.#host.onBridgeConnected(bridgeId);
  }

  #onBridgeGone(generation: number, code: number, reason: string): void {
    const socket = this.#sockets.get(generation);
    const bridgeId = this.#bridgeIds.get(generation);
    this.#forget(generation);
    if (!socket || bridgeId === undefined) return;
    this.#closeQuietly(socket, 1000, "closed");
    const current = generation === this.#state.generation && this.#state.ending === null;
    if (current) {
      this.#host.log.warn("bridge link closed", { bridgeId, closeCode: closeCodeName(code), reason });
      if (code !== 1000 && code !== 4010)
        this.#host.reportBridgeFailure(bridgeId, `closed ${closeCodeName(code)}`);
    }
    this.#dispatch({ type: "bridge_lost", generation, bridgeId, code, reason, nowMs: Date.now() });
  }

  #handshake(resume: ResumeReason | null): void {
    const generation = this.#state.generation;
    const socket = this.#sockets.get(generation);
    if (!socket || this.#startFrame === null) return;
    try {
      if (resume !== null) socket.send(this.#host.resumeFrame(resume));
      if (this.#connectedFrame !== null) socket.send(this.#connectedFrame);
      socket.send(this.#startFrame);
      for (const frame of this.#held) socket.send(frame);
    } catch {
      // Held frames stay held; the failover replays everything to the next bridge.
      this.#onBridgeGone(generation, 1006, "send failed");
      return;
    }
    this.#held = [];
    this.#live = socket;
  }

  #forget(generation: number): void {
    if (this.#live !== null && this.#live === this.#sockets.get(generation)) this.#live = null;
    this.#sockets.delete(generation);
    this.#bridgeIds.delete(generation);
  }

  #closeQuietly(socket: WebSocket, code: number, reason: string): void {
    try {
      socket.close(code, reason);
    } catch {
      // Already closed or closing: nothing to do.
    }
  }

  #bad(side: "twilio" | "bridge", reason: string, detail?: string): void {
    this.#badFrames.count(side, reason, detail);
  }
}
