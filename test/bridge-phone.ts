/**
 * A Twilio stand-in that talks straight to a bridge (the edge left out), for the bridge's tests and its
 * benchmark: it opens `/v1/calls/{sid}/media` with the bridge token, sends `connected`/`start`, then a
 * media frame every 20 ms on a drift-free schedule (silence unless audio is queued), and plays what comes
 * back through Twilio's emulated buffer (marks echoed when played, `clear` echoing every pending mark).
 */
import WebSocket from "ws";
import { mulawToPcm16, pcm16ToMulaw } from "../shared/audio/mulaw.ts";
import {
  BRIDGE_PROTOCOL_HEADER,
  BRIDGE_PROTOCOL_VERSION,
  type BridgeControl,
  bridgeMediaPath,
  isControlFrame,
  parseBridgeControl,
} from "../shared/bridge-protocol.ts";
import { signToken } from "../shared/signed-token.ts";
import {
  buildConnected,
  buildDtmf,
  buildInboundMedia,
  buildMarkEcho,
  buildStart,
  buildStop,
  parseTwilioOutbound,
} from "../shared/twilio-media.ts";
import { PlaybackBuffer } from "./phone/playback-buffer.ts";

const FRAME_MS = 20;
const FRAME_BYTES = 160;
const MULAW_SILENCE = 0xff;

function hex(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

export function newCallSid(): string {
  return `CA${hex(32)}`;
}

export function bridgeToken(secret: string, callSid: string, ttlMs = 60_000): Promise<string> {
  return signToken(secret, { purpose: "bridge", subject: callSid, expiresAtMs: Date.now() + ttlMs });
}

export interface BridgePhoneOptions {
  baseUrl: string;
  secret: string;
  callSid?: string;
  /** Called for every media frame received, with its receive time (benchmark hook). */
  onMedia?: (bytes: Uint8Array, receivedMs: number) => void;
  /** Called just before each inbound media frame is sent (benchmark hook). */
  onSend?: (sentMs: number, frameIndex: number) => void;
  /** The handset's acoustic echo: what the caller hears comes back this much quieter and later. */
  echo?: { lossDb: number; delayMs: number };
}

export class BridgePhone {
  readonly callSid: string;
  readonly streamSid = `MZ${hex(32)}`;
  readonly accountSid = `AC${hex(32)}`;
  readonly controls: BridgeControl[] = [];
  readonly clears: number[] = [];
  readonly invalidFrames: string[] = [];
  readonly buffer = new PlaybackBuffer();
  /** Every mark name echoed back to the bridge, in order. */
  readonly echoedMarks: string[] = [];
  /** The marks echoed because of a `clear` (pending marks whose audio was never played). */
  readonly clearedMarks: string[] = [];
  /** Reply audio heard before each `clear`, in ms (what the caller heard of the reply that was cut). */
  readonly heardMsAtClear: number[] = [];
  /** Milliseconds of reply audio that played, in total. */
  heardMs = 0;
  closeCode: number | null = null;
  readonly closed: Promise<number>;
  readonly #socket: WebSocket;
  readonly #options: BridgePhoneOptions;
  readonly #outgoing: Uint8Array[] = [];
  readonly #waiters = new Set<() => void>();
  #sequence = 0;
  #frame = 0;
  #startMs = 0;
  #pacer: NodeJS.Timeout | null = null;
  #markTimer: NodeJS.Timeout | null = null;
  /** Recently played reply audio (for the echo), on the performance.now() clock. */
  #played: Array<{ startMs: number; pcm: Int16Array }> = [];

  private constructor(socket: WebSocket, callSid: string, options: BridgePhoneOptions) {
    this.#socket = socket;
    this.callSid = callSid;
    this.#options = options;
    this.closed = new Promise((resolve) =>
      socket.once("close", (code) => {
        this.closeCode = code;
        this.#stopPacer();
        this.#notify();
        resolve(code);
      }),
    );
    socket.on("message", (data, isBinary) => this.#onFrame(data.toString(), isBinary));
  }

  static async connect(options: BridgePhoneOptions): Promise<BridgePhone> {
    const callSid = options.callSid ?? newCallSid();
    const socket = new WebSocket(`${options.baseUrl.replace(/^http/, "ws")}${bridgeMediaPath(callSid)}`, {
      headers: {
        authorization: `Bearer ${await bridgeToken(options.secret, callSid)}`,
        [BRIDGE_PROTOCOL_HEADER]: String(BRIDGE_PROTOCOL_VERSION),
      },
    });
    const phone = new BridgePhone(socket, callSid, options);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_request, response) =>
        reject(new Error(`upgrade refused: HTTP ${response.statusCode}`)),
      );
      socket.once("error", reject);
    });
    return phone;
  }

  /** `connected` + `start`, then a frame every 20 ms. */
  start(customParameters: Record<string, string> = {}): void {
    this.sendRaw(buildConnected());
    this.sendRaw(
      buildStart({
        sequenceNumber: ++this.#sequence,
        streamSid: this.streamSid,
        accountSid: this.accountSid,
        callSid: this.callSid,
        customParameters,
      }),
    );
    this.#startMs = performance.now();
    this.#schedule();
  }

  /** Queues caller audio (8 kHz μ-law); resolves once its last frame has been sent. */
  async say(mulaw: Uint8Array): Promise<void> {
    for (let at = 0; at < mulaw.length; at += FRAME_BYTES) {
      const frame = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
      frame.set(mulaw.subarray(at, at + FRAME_BYTES));
      this.#outgoing.push(frame);
    }
    await this.waitFor(
      () => this.#outgoing.length === 0 || this.closeCode !== null,
      60_000,
      "caller audio to be sent",
    );
  }

  dtmf(digit: string): void {
    this.sendRaw(buildDtmf({ sequenceNumber: ++this.#sequence, streamSid: this.streamSid, digit }));
  }

  sendRaw(frame: string | Uint8Array): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(frame);
  }

  /** Twilio's `stop`, then the socket closes as Twilio closes it. */
  async hangUp(): Promise<number> {
    this.#stopPacer();
    this.sendRaw(
      buildStop({
        sequenceNumber: ++this.#sequence,
        streamSid: this.streamSid,
        accountSid: this.accountSid,
        callSid: this.callSid,
      }),
    );
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close(1000);
    return this.closed;
  }

  /** Ends the socket without a goodbye (a network failure). */
  drop(): void {
    this.#stopPacer();
    this.#socket.terminate();
  }

  controlsOf<K extends BridgeControl["bridge"]>(kind: K): Array<Extract<BridgeControl, { bridge: K }>> {
    return this.controls.filter((c): c is Extract<BridgeControl, { bridge: K }> => c.bridge === kind);
  }

  /** Resolves when `predicate` holds (checked on every frame received and every 20 ms). */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const interval = setInterval(check, FRAME_MS);
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(interval);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  /** Waits until the agent has spoken and its audio has fully played. */
  async waitForReplyHeard(timeoutMs = 15_000): Promise<void> {
    const heardBefore = this.heardMs;
    await this.waitFor(
      () => this.heardMs > heardBefore && this.buffer.bufferedMs(performance.now()) === 0,
      timeoutMs,
      "a reply to be heard",
    );
  }

  #schedule(): void {
    const dueMs = this.#startMs + this.#frame * FRAME_MS;
    this.#pacer = setTimeout(() => this.#sendFrame(), Math.max(0, dueMs - performance.now()));
  }

  #sendFrame(): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#advance();
    let payload = this.#outgoing.shift() ?? new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
    if (this.#options.echo) payload = this.#withEcho(payload, this.#options.echo);
    this.#options.onSend?.(performance.timeOrigin + performance.now(), this.#frame);
    this.sendRaw(
      buildInboundMedia({
        sequenceNumber: ++this.#sequence,
        streamSid: this.streamSid,
        chunk: this.#frame + 1,
        timestampMs: this.#frame * FRAME_MS,
        payloadBase64: Buffer.from(payload).toString("base64"),
      }),
    );
    this.#frame++;
    this.#notify();
    this.#schedule();
  }

  #stopPacer(): void {
    if (this.#pacer) clearTimeout(this.#pacer);
    if (this.#markTimer) clearTimeout(this.#markTimer);
    this.#pacer = null;
    this.#markTimer = null;
  }

  #onFrame(text: string, isBinary: boolean): void {
    const nowMs = performance.now();
    if (isBinary) {
      this.invalidFrames.push("binary frame");
      return;
    }
    if (isControlFrame(text)) {
      try {
        this.controls.push(parseBridgeControl(text));
      } catch (error) {
        this.invalidFrames.push(`control: ${String(error)}`);
      }
      this.#notify();
      return;
    }
    let message: ReturnType<typeof parseTwilioOutbound>;
    try {
      message = parseTwilioOutbound(text);
    } catch (error) {
      this.invalidFrames.push(String(error));
      return;
    }
    if (message.streamSid !== this.streamSid) this.invalidFrames.push(`wrong streamSid ${message.streamSid}`);
    this.#advance();
    if (message.event === "media") {
      const bytes = new Uint8Array(Buffer.from(message.media.payload, "base64"));
      this.#options.onMedia?.(bytes, performance.timeOrigin + nowMs);
      this.buffer.enqueue(bytes, nowMs);
    } else if (message.event === "mark") {
      this.buffer.mark(message.mark.name, nowMs);
    } else {
      this.clears.push(nowMs);
      const events = this.buffer.clear(nowMs);
      this.#handle({ played: events.played, marks: [] });
      this.heardMsAtClear.push(this.heardMs);
      this.clearedMarks.push(...events.marks);
      this.#handle({ played: [], marks: events.marks });
    }
    this.#scheduleMarks();
    this.#notify();
  }

  #advance(): void {
    this.#handle(this.buffer.advance(performance.now()));
  }

  #handle(events: ReturnType<PlaybackBuffer["advance"]>): void {
    for (const played of events.played) {
      this.heardMs += played.bytes.length / 8;
      if (this.#options.echo) this.#played.push({ startMs: played.startMs, pcm: mulawToPcm16(played.bytes) });
    }
    for (const name of events.marks) {
      this.echoedMarks.push(name);
      this.sendRaw(buildMarkEcho({ sequenceNumber: ++this.#sequence, streamSid: this.streamSid, name }));
    }
  }

  /** The caller's frame plus the echo of what played `delayMs` ago, `lossDb` quieter. */
  #withEcho(frame: Uint8Array, echo: { lossDb: number; delayMs: number }): Uint8Array {
    const nowMs = performance.now();
    this.#played = this.#played.filter((chunk) => chunk.startMs + chunk.pcm.length / 8 > nowMs - 1000);
    const gain = 10 ** (-echo.lossDb / 20);
    const pcm = mulawToPcm16(frame);
    const frameStartMs = nowMs - FRAME_MS - echo.delayMs;
    for (const chunk of this.#played) {
      for (let i = 0; i < pcm.length; i++) {
        const at = Math.floor((frameStartMs + i / 8 - chunk.startMs) * 8);
        if (at >= 0 && at < chunk.pcm.length) {
          pcm[i] = Math.max(-32768, Math.min(32767, Math.round(pcm[i]! + chunk.pcm[at]! * gain)));
        }
      }
    }
    return pcm16ToMulaw(pcm);
  }

  #scheduleMarks(): void {
    const next = this.buffer.nextEventMs();
    if (next === null || this.#markTimer) return;
    this.#markTimer = setTimeout(
      () => {
        this.#markTimer = null;
        this.#advance();
        this.#notify();
        this.#scheduleMarks();
      },
      Math.max(0, next - performance.now()),
    );
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
