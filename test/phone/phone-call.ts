/**
 * One phone call, placed exactly as Twilio places it: the signed voice webhook, the TwiML, the signed
 * WebSocket upgrade to the Stream URL, `connected`/`start`, a `media` frame every 20 ms (silence
 * included), `dtmf`, `stop`, the status callbacks — and Twilio's playback buffer for what comes back.
 * It plays a script of utterances, can barge in, and records what the caller heard and when.
 */
import WebSocket from "ws";
import { MULAW_BYTES_PER_MS, MULAW_FRAME_BYTES } from "../../shared/audio/mulaw.ts";
import {
  buildConnected,
  buildDtmf,
  buildInboundMedia,
  buildMarkEcho,
  buildStart,
  buildStop,
  parseTwilioOutbound,
} from "../../shared/twilio-media.ts";
import { PlaybackBuffer, type PlayedAudio } from "./playback-buffer.ts";
import {
  type CallIdentity,
  newCallIdentity,
  postSigned,
  readTwiml,
  statusParams,
  upgradeSignature,
  voiceParams,
} from "./webhook.ts";

const FRAME_MS = 20;
const MULAW_SILENCE = 0xff;

/** Epoch milliseconds with sub-millisecond precision: the clock every part of the stack stamps with. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface Utterance {
  label: string;
  text?: string;
  /** 8 kHz μ-law, as Twilio sends it. */
  mulaw: Uint8Array;
  /** Where speech starts and ends inside `mulaw`. */
  speechOnsetMs: number;
  speechEndMs: number;
}

export type CallStep =
  | { kind: "say"; utterance: Utterance }
  | { kind: "silence"; ms: number }
  /** Waits until a reply has been heard and has then stayed quiet for `quietMs`. */
  | { kind: "waitForReply"; quietMs?: number; timeoutMs?: number }
  /** Waits until the caller has heard `afterHeardMs` of a reply, then talks over it. */
  | { kind: "bargeIn"; utterance: Utterance; afterHeardMs: number; timeoutMs?: number }
  | { kind: "dtmf"; digit: string }
  /** Sends a text frame as is (a test of what the far end does with frames Twilio would never send). */
  | { kind: "raw"; frame: string }
  /** Runs something in the middle of the call (e.g. kills a bridge). */
  | { kind: "do"; action: (call: CallIdentity) => Promise<void> };

export interface TurnResult {
  label: string;
  text?: string;
  /** The caller's speech on the phone clock: first and last speech frame sent. */
  speechOnsetMs: number;
  speechEndMs: number;
  /** First reply frame received after the caller stopped speaking, and when it started playing. */
  firstReplyFrameMs: number | null;
  firstHeardMs: number | null;
  bargeIn: BargeInResult | null;
}

export interface BargeInResult {
  /** `clear` received after the caller started talking over the reply. */
  clearMs: number | null;
  /** Reply audio the caller heard after their own speech onset. */
  heardAfterOnsetMs: number;
}

export interface CallResult {
  identity: CallIdentity;
  /** What the webhook answered: a stream, or other TwiML (e.g. an apology and hang-up). */
  twimlKind: "stream" | "other";
  twiml: string;
  streamStartMs: number | null;
  /** When the first reply audio arrived and started playing after `start` (the greeting). */
  greetingFirstFrameMs: number | null;
  greetingFirstHeardMs: number | null;
  turns: TurnResult[];
  /** Everything the caller heard, 8 kHz μ-law from `streamStartMs`, silence where nothing played. */
  heard: Uint8Array;
  clears: number[];
  marksEchoed: number;
  /** Frames from the far end that Twilio would refuse. */
  invalidFrames: string[];
  /** Moments the playback buffer ran dry between two frames: [startMs, endMs]. */
  gaps: Array<[number, number]>;
  closeCode: number | null;
}

export interface PhoneCallOptions {
  edgeBaseUrl: string;
  authToken: string;
  script: CallStep[];
  identity?: CallIdentity;
  /** How long to keep listening after the script (e.g. for the goodbye). */
  tailMs?: number;
  onEvent?: (what: string, fields: Record<string, unknown>) => void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export async function placeCall(options: PhoneCallOptions): Promise<CallResult> {
  const identity = options.identity ?? newCallIdentity();
  const base = options.edgeBaseUrl.replace(/\/$/, "");
  const voice = await postSigned(`${base}/voice`, options.authToken, voiceParams(identity));
  const twiml = await voice.text();
  if (voice.status !== 200) throw new Error(`voice webhook answered ${voice.status}: ${twiml.slice(0, 200)}`);
  const instruction = readTwiml(twiml);
  const result: CallResult = {
    identity,
    twimlKind: instruction.kind,
    twiml,
    streamStartMs: null,
    greetingFirstFrameMs: null,
    greetingFirstHeardMs: null,
    turns: [],
    heard: new Uint8Array(0),
    clears: [],
    marksEchoed: 0,
    invalidFrames: [],
    gaps: [],
    closeCode: null,
  };
  if (instruction.kind !== "stream") return result;
  const stream = new StreamSession(identity, instruction.url, options, result);
  await stream.run(instruction.parameters);
  if (instruction.statusCallback) {
    await postSigned(instruction.statusCallback, options.authToken, {
      AccountSid: identity.accountSid,
      CallSid: identity.callSid,
      StreamSid: identity.streamSid,
      StreamName: identity.streamSid,
      StreamEvent: "stream-stopped",
      Timestamp: new Date().toISOString(),
    });
  }
  await postSigned(`${base}/status`, options.authToken, statusParams(identity, "completed", 1));
  return result;
}

class StreamSession {
  readonly #identity: CallIdentity;
  readonly #url: string;
  readonly #options: PhoneCallOptions;
  readonly #result: CallResult;
  readonly #buffer = new PlaybackBuffer();
  readonly #outgoing: Uint8Array[] = [];
  readonly #heardChunks: PlayedAudio[] = [];
  #socket: WebSocket | null = null;
  #sequence = 0;
  #chunk = 0;
  #startMs = 0;
  #closed = false;
  #markTimer: NodeJS.Timeout | null = null;
  #lastHeardMs = 0;
  #lastReplyFrameMs = 0;
  #currentTurn: TurnResult | null = null;
  /** Frames still to send of the utterance in flight, and where its speech ends. */
  #speechEndAtFrame: { frame: number; turn: TurnResult } | null = null;
  #speechOnsetAtFrame: { frame: number; turn: TurnResult } | null = null;
  #framesSent = 0;

  constructor(identity: CallIdentity, url: string, options: PhoneCallOptions, result: CallResult) {
    this.#identity = identity;
    this.#url = url;
    this.#options = options;
    this.#result = result;
  }

  async run(parameters: Record<string, string>): Promise<void> {
    const socket = new WebSocket(this.#url, {
      headers: { "x-twilio-signature": upgradeSignature(this.#options.authToken, this.#url) },
      // Twilio does not document permessage-deflate on Media Streams; `ws` would offer it and make the
      // edge compress every frame, so the simulator does not (the benchmark's edge CPU assumes none).
      perMessageDeflate: false,
    });
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_req, res) =>
        reject(new Error(`stream upgrade refused: HTTP ${res.statusCode}`)),
      );
      socket.once("error", reject);
    });
    const closed = new Promise<void>((resolve) =>
      socket.once("close", (code) => {
        this.#closed = true;
        this.#result.closeCode = code;
        resolve();
      }),
    );
    socket.on("message", (data, isBinary) => this.#onFrame(data.toString(), isBinary));
    this.#send(buildConnected());
    this.#startMs = nowMs();
    this.#result.streamStartMs = this.#startMs;
    this.#send(
      buildStart({
        sequenceNumber: this.#nextSequence(),
        streamSid: this.#identity.streamSid,
        accountSid: this.#identity.accountSid,
        callSid: this.#identity.callSid,
        customParameters: parameters,
      }),
    );
    const pacer = this.#pace();
    await this.#runScript();
    await this.#waitQuiet(this.#options.tailMs ?? 0, 0);
    this.#closed = true;
    await pacer;
    this.#collect(nowMs());
    if (socket.readyState === WebSocket.OPEN) {
      this.#send(
        buildStop({
          sequenceNumber: this.#nextSequence(),
          streamSid: this.#identity.streamSid,
          accountSid: this.#identity.accountSid,
          callSid: this.#identity.callSid,
        }),
      );
      socket.close(1000);
    }
    await Promise.race([closed, sleep(2000)]);
    if (this.#markTimer) clearTimeout(this.#markTimer);
    this.#result.heard = this.#assembleHeard();
    this.#result.gaps = this.#buffer.gaps;
  }

  #nextSequence(): number {
    this.#sequence += 1;
    return this.#sequence;
  }

  #send(frame: string): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(frame);
  }

  /** Sends a frame every 20 ms on a drift-free schedule, from the script's audio or silence. */
  async #pace(): Promise<void> {
    const silence = new Uint8Array(MULAW_FRAME_BYTES).fill(MULAW_SILENCE);
    let frame = 0;
    while (!this.#closed) {
      const dueMs = this.#startMs + frame * FRAME_MS;
      await sleep(dueMs - nowMs());
      if (this.#closed) break;
      const payload = this.#outgoing.shift() ?? silence;
      const sentMs = nowMs();
      this.#send(
        buildInboundMedia({
          sequenceNumber: this.#nextSequence(),
          streamSid: this.#identity.streamSid,
          chunk: ++this.#chunk,
          timestampMs: frame * FRAME_MS,
          payloadBase64: Buffer.from(payload).toString("base64"),
        }),
      );
      this.#framesSent += 1;
      if (this.#speechOnsetAtFrame && this.#framesSent >= this.#speechOnsetAtFrame.frame) {
        this.#speechOnsetAtFrame.turn.speechOnsetMs = sentMs;
        this.#speechOnsetAtFrame = null;
      }
      if (this.#speechEndAtFrame && this.#framesSent >= this.#speechEndAtFrame.frame) {
        this.#speechEndAtFrame.turn.speechEndMs = sentMs;
        this.#speechEndAtFrame = null;
      }
      this.#collect(sentMs);
      frame += 1;
    }
  }

  async #runScript(): Promise<void> {
    for (const step of this.#options.script) {
      if (this.#closed) return;
      switch (step.kind) {
        case "say":
          await this.#say(step.utterance, null);
          break;
        case "silence":
          await sleep(step.ms);
          break;
        case "waitForReply":
          await this.#waitForReply(step.quietMs ?? 600, step.timeoutMs ?? 15_000);
          break;
        case "bargeIn":
          await this.#waitHeard(step.afterHeardMs, step.timeoutMs ?? 15_000);
          await this.#say(step.utterance, { clearMs: null, heardAfterOnsetMs: 0 });
          break;
        case "dtmf": {
          // A key press is a turn of its own: the reply that follows belongs to it.
          const sentMs = nowMs();
          this.#currentTurn = {
            label: `dtmf ${step.digit}`,
            speechOnsetMs: sentMs,
            speechEndMs: sentMs,
            firstReplyFrameMs: null,
            firstHeardMs: null,
            bargeIn: null,
          };
          this.#result.turns.push(this.#currentTurn);
          this.#send(
            buildDtmf({
              sequenceNumber: this.#nextSequence(),
              streamSid: this.#identity.streamSid,
              digit: step.digit,
            }),
          );
          break;
        }
        case "raw":
          this.#send(step.frame);
          break;
        case "do":
          await step.action(this.#identity);
          break;
        default:
          step satisfies never;
      }
    }
  }

  /** Queues an utterance's frames; resolves when its last frame has been sent. */
  async #say(utterance: Utterance, bargeIn: BargeInResult | null): Promise<void> {
    const turn: TurnResult = {
      label: utterance.label,
      ...(utterance.text === undefined ? {} : { text: utterance.text }),
      speechOnsetMs: 0,
      speechEndMs: 0,
      firstReplyFrameMs: null,
      firstHeardMs: null,
      bargeIn,
    };
    this.#result.turns.push(turn);
    this.#currentTurn = turn;
    const frames = Math.ceil(utterance.mulaw.length / MULAW_FRAME_BYTES);
    const queuedBefore = this.#framesSent + this.#outgoing.length;
    for (let i = 0; i < frames; i++) {
      const frame = new Uint8Array(MULAW_FRAME_BYTES).fill(MULAW_SILENCE);
      frame.set(utterance.mulaw.subarray(i * MULAW_FRAME_BYTES, (i + 1) * MULAW_FRAME_BYTES));
      this.#outgoing.push(frame);
    }
    this.#speechOnsetAtFrame = {
      frame: queuedBefore + 1 + Math.floor(utterance.speechOnsetMs / FRAME_MS),
      turn,
    };
    this.#speechEndAtFrame = { frame: queuedBefore + Math.ceil(utterance.speechEndMs / FRAME_MS), turn };
    while (!this.#closed && this.#outgoing.length > 0) await sleep(FRAME_MS);
  }

  async #waitForReply(quietMs: number, timeoutMs: number): Promise<void> {
    const turn = this.#currentTurn;
    const deadline = nowMs() + timeoutMs;
    while (!this.#closed && nowMs() < deadline) {
      const heardSomething = turn ? turn.firstHeardMs !== null : this.#result.greetingFirstHeardMs !== null;
      if (heardSomething) break;
      await sleep(10);
    }
    await this.#waitQuiet(quietMs, deadline - nowMs());
  }

  /** Waits until nothing is buffered and no reply audio has played or arrived for `quietMs`. */
  async #waitQuiet(quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = nowMs() + Math.max(quietMs, timeoutMs);
    while (!this.#closed && nowMs() < deadline) {
      const now = nowMs();
      this.#collect(now);
      const lastActivity = Math.max(this.#lastHeardMs, this.#lastReplyFrameMs);
      if (this.#buffer.bufferedMs(now) === 0 && now - lastActivity >= quietMs) return;
      await sleep(10);
    }
  }

  /** Waits until the current reply has been heard for `ms`. */
  async #waitHeard(ms: number, timeoutMs: number): Promise<void> {
    const turn = this.#currentTurn;
    const deadline = nowMs() + timeoutMs;
    while (!this.#closed && nowMs() < deadline) {
      const started = turn ? turn.firstHeardMs : this.#result.greetingFirstHeardMs;
      if (started !== null && nowMs() - started >= ms) return;
      this.#collect(nowMs());
      await sleep(5);
    }
    throw new Error(`barge-in: no reply was heard for ${ms} ms within ${timeoutMs} ms`);
  }

  #onFrame(text: string, isBinary: boolean): void {
    const receivedMs = nowMs();
    if (isBinary) {
      this.#result.invalidFrames.push("binary frame");
      return;
    }
    let message: ReturnType<typeof parseTwilioOutbound>;
    try {
      message = parseTwilioOutbound(text);
    } catch (error) {
      this.#result.invalidFrames.push(error instanceof Error ? error.message : String(error));
      return;
    }
    if (message.streamSid !== this.#identity.streamSid) {
      this.#result.invalidFrames.push(`frame for another stream: ${message.streamSid}`);
      return;
    }
    this.#collect(receivedMs);
    switch (message.event) {
      case "media": {
        const bytes = new Uint8Array(Buffer.from(message.media.payload, "base64"));
        this.#lastReplyFrameMs = receivedMs;
        const turn = this.#currentTurn;
        if (turn === null) this.#result.greetingFirstFrameMs ??= receivedMs;
        else if (turn.firstReplyFrameMs === null && turn.speechEndMs > 0 && receivedMs >= turn.speechEndMs) {
          turn.firstReplyFrameMs = receivedMs;
        }
        this.#buffer.enqueue(bytes, receivedMs);
        break;
      }
      case "mark":
        this.#buffer.mark(message.mark.name, receivedMs);
        break;
      case "clear": {
        this.#result.clears.push(receivedMs);
        const bargeIn = this.#currentTurn?.bargeIn;
        if (bargeIn && bargeIn.clearMs === null) bargeIn.clearMs = receivedMs;
        this.#handle(this.#buffer.clear(receivedMs));
        break;
      }
    }
    this.#scheduleMarks();
  }

  /** Moves Twilio's playback to `now`, echoing marks and noting what was heard. */
  #collect(now: number): void {
    this.#handle(this.#buffer.advance(now));
  }

  #handle(events: { played: PlayedAudio[]; marks: string[] }): void {
    for (const played of events.played) {
      this.#heardChunks.push(played);
      const endMs = played.startMs + played.bytes.length / MULAW_BYTES_PER_MS;
      this.#lastHeardMs = endMs;
      const turn = this.#currentTurn;
      if (turn === null) this.#result.greetingFirstHeardMs ??= played.startMs;
      else if (turn.firstReplyFrameMs !== null && turn.firstHeardMs === null)
        turn.firstHeardMs = played.startMs;
      // The interrupted reply, heard after the caller started talking over it: until the clear, and never
      // the new reply (which starts after the caller's speech ends).
      if (
        turn?.bargeIn &&
        turn.speechOnsetMs > 0 &&
        turn.bargeIn.clearMs === null &&
        turn.firstReplyFrameMs === null
      ) {
        const afterOnsetMs = endMs - Math.max(played.startMs, turn.speechOnsetMs);
        if (afterOnsetMs > 0) turn.bargeIn.heardAfterOnsetMs += afterOnsetMs;
      }
    }
    for (const name of events.marks) {
      this.#result.marksEchoed += 1;
      this.#send(
        buildMarkEcho({ sequenceNumber: this.#nextSequence(), streamSid: this.#identity.streamSid, name }),
      );
    }
  }

  #scheduleMarks(): void {
    const next = this.#buffer.nextEventMs();
    if (next === null || this.#markTimer) return;
    this.#markTimer = setTimeout(
      () => {
        this.#markTimer = null;
        this.#collect(nowMs());
        this.#scheduleMarks();
      },
      Math.max(0, next - nowMs()),
    );
  }

  #assembleHeard(): Uint8Array {
    const last = this.#heardChunks.at(-1);
    if (!last) return new Uint8Array(0);
    const totalBytes = Math.ceil((last.startMs - this.#startMs) * MULAW_BYTES_PER_MS) + last.bytes.length;
    const out = new Uint8Array(Math.max(0, totalBytes)).fill(MULAW_SILENCE);
    for (const chunk of this.#heardChunks) {
      const offset = Math.max(0, Math.round((chunk.startMs - this.#startMs) * MULAW_BYTES_PER_MS));
      out.set(chunk.bytes.subarray(0, Math.max(0, out.length - offset)), offset);
    }
    return out;
  }
}
