/**
 * The softphone's side of a Media Stream, exactly what Twilio sends (connected, start with the stream
 * token in customParameters, a media frame per 20 ms with sequence number, chunk and timestamp, mark
 * echoes, stop), built with the shared protocol module; and what comes back, checked with the same
 * parser the phone simulator uses. Pure: no socket here.
 */
import { decodeBase64, encodeBase64 } from "../../../shared/audio/base64.ts";
import { FRAME_MS } from "../../../shared/audio/mulaw.ts";
import {
  buildConnected,
  buildInboundMedia,
  buildMarkEcho,
  buildStart,
  buildStop,
  parseTwilioOutbound,
} from "../../../shared/twilio-media.ts";

export interface StreamIdentity {
  callSid: string;
  accountSid: string;
  streamSid: string;
  streamToken: string;
}

/** What the far end asked the phone to do. */
export type PlayerCommand =
  | { kind: "media"; mulaw: Uint8Array }
  | { kind: "mark"; name: string }
  | { kind: "clear" }
  | { kind: "invalid"; reason: string };

export function newStreamSid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `MZ${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

export class MediaStreamClient {
  readonly identity: StreamIdentity;
  #sequence = 0;
  #chunk = 0;

  constructor(identity: StreamIdentity) {
    this.identity = identity;
  }

  /** Media frames sent so far. */
  get chunks(): number {
    return this.#chunk;
  }

  connected(): string {
    return buildConnected();
  }

  start(): string {
    return buildStart({
      sequenceNumber: this.#next(),
      streamSid: this.identity.streamSid,
      accountSid: this.identity.accountSid,
      callSid: this.identity.callSid,
      customParameters: { token: this.identity.streamToken },
    });
  }

  /** One 20 ms frame of 8 kHz μ-law; its timestamp is its place in the stream (ms since start). */
  media(frame: Uint8Array): string {
    const chunk = ++this.#chunk;
    return buildInboundMedia({
      sequenceNumber: this.#next(),
      streamSid: this.identity.streamSid,
      chunk,
      timestampMs: (chunk - 1) * FRAME_MS,
      payloadBase64: encodeBase64(frame),
    });
  }

  markEcho(name: string): string {
    return buildMarkEcho({ sequenceNumber: this.#next(), streamSid: this.identity.streamSid, name });
  }

  stop(): string {
    return buildStop({
      sequenceNumber: this.#next(),
      streamSid: this.identity.streamSid,
      accountSid: this.identity.accountSid,
      callSid: this.identity.callSid,
    });
  }

  /** A frame from the edge, as a command for the player (frames Twilio would refuse are `invalid`). */
  receive(text: string): PlayerCommand {
    let message: ReturnType<typeof parseTwilioOutbound>;
    try {
      message = parseTwilioOutbound(text);
    } catch (error) {
      return { kind: "invalid", reason: error instanceof Error ? error.message : String(error) };
    }
    if (message.streamSid !== this.identity.streamSid) {
      return { kind: "invalid", reason: `frame for another stream: ${message.streamSid}` };
    }
    switch (message.event) {
      case "media":
        return { kind: "media", mulaw: decodeBase64(message.media.payload) };
      case "mark":
        return { kind: "mark", name: message.mark.name };
      case "clear":
        return { kind: "clear" };
    }
  }

  #next(): number {
    this.#sequence += 1;
    return this.#sequence;
  }
}
