/**
 * The AWS event-stream framing of InvokeModelWithBidirectionalStream, as the service speaks it.
 * Request body: signed envelope frames (`:date`, `:chunk-signature`) whose payload is an inner
 * `:event-type chunk` message carrying `{"bytes":"<base64 of the event JSON>"}`; an envelope with an empty
 * payload ends the input. Response body: `chunk` event frames, or one exception frame that ends the stream.
 */
import { EventStreamCodec, type Message, type MessageHeaders } from "@smithy/eventstream-codec";
import { AppError } from "../../shared/errors.ts";
import { MAX_NOVA_EVENT_BYTES } from "../../shared/nova-events.ts";

/** In-stream exceptions (the union members of InvokeModelWithBidirectionalStreamOutput). */
export type StreamExceptionType =
  | "validationException"
  | "modelStreamErrorException"
  | "modelTimeoutException"
  | "throttlingException"
  | "internalServerException"
  | "serviceUnavailableException";

/** An envelope frame holds one base64-wrapped event plus headers: bound it well above the event limit. */
export const MAX_FRAME_BYTES = Math.ceil(MAX_NOVA_EVENT_BYTES * 1.4) + 4096;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
export const codec = new EventStreamCodec(
  (bytes) => textDecoder.decode(bytes),
  (text) => textEncoder.encode(text),
);

/** Cuts a byte stream into whole event-stream messages (each starts with its 4-byte total length). */
export class FrameSplitter {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: Buffer[] = [];
    while (this.#pending.length >= 4) {
      const length = this.#pending.readUInt32BE(0);
      if (length < 16 || length > MAX_FRAME_BYTES) {
        throw new AppError("frame_too_large", `event-stream frame of ${length} bytes is out of bounds`);
      }
      if (this.#pending.length < length) break;
      frames.push(this.#pending.subarray(0, length));
      this.#pending = this.#pending.subarray(length);
    }
    return frames;
  }

  get bufferedBytes(): number {
    return this.#pending.length;
  }
}

function decode(frame: Uint8Array, what: string): Message {
  try {
    return codec.decode(frame);
  } catch (cause) {
    throw new AppError("bad_frame", `${what}: not a valid event-stream message (length or CRC)`, { cause });
  }
}

function stringHeader(headers: MessageHeaders, name: string): string | undefined {
  const value = headers[name];
  return value?.type === "string" ? value.value : undefined;
}

/** One request frame, unwrapped: the envelope's signing headers and the event bytes (none at end). */
export interface InputEnvelope {
  dateMs: number | undefined;
  signatureHex: string | undefined;
  /** The signed payload (the inner message), needed to verify the signature. */
  payload: Uint8Array;
  /** The event JSON bytes, or undefined for the empty end-of-input envelope. */
  eventBytes: Uint8Array | undefined;
}

export function unwrapInputFrame(frame: Uint8Array): InputEnvelope {
  const envelope = decode(frame, "input envelope");
  const date = envelope.headers[":date"];
  const signature = envelope.headers[":chunk-signature"];
  const dateMs = date?.type === "timestamp" ? date.value.getTime() : undefined;
  const signatureHex =
    signature?.type === "binary" ? Buffer.from(signature.value).toString("hex") : undefined;
  if (envelope.body.byteLength === 0) {
    return { dateMs, signatureHex, payload: envelope.body, eventBytes: undefined };
  }
  const inner = decode(envelope.body, "input event");
  const messageType = stringHeader(inner.headers, ":message-type");
  const eventType = stringHeader(inner.headers, ":event-type");
  if (messageType !== "event" || eventType !== "chunk") {
    throw new AppError("bad_frame", `input event: expected a chunk event, got ${messageType}/${eventType}`);
  }
  let wrapper: unknown;
  try {
    wrapper = JSON.parse(textDecoder.decode(inner.body));
  } catch (cause) {
    throw new AppError("bad_json", "input chunk: body is not JSON", { cause });
  }
  const bytes = (wrapper as { bytes?: unknown } | null)?.bytes;
  if (typeof bytes !== "string")
    throw new AppError("bad_frame", "input chunk: bytes must be a base64 string");
  return { dateMs, signatureHex, payload: envelope.body, eventBytes: Buffer.from(bytes, "base64") };
}

const STRING = "string" as const;

/** A response frame carrying one output event document. */
export function encodeChunkFrame(eventJson: string): Uint8Array {
  return codec.encode({
    headers: {
      ":message-type": { type: STRING, value: "event" },
      ":event-type": { type: STRING, value: "chunk" },
      ":content-type": { type: STRING, value: "application/json" },
    },
    body: textEncoder.encode(JSON.stringify({ bytes: Buffer.from(eventJson).toString("base64") })),
  });
}

/** A response frame carrying an in-stream exception; the stream ends after it. */
export function encodeExceptionFrame(type: StreamExceptionType, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ":message-type": { type: STRING, value: "exception" },
      ":exception-type": { type: STRING, value: type },
      ":content-type": { type: STRING, value: "application/json" },
    },
    body: textEncoder.encode(JSON.stringify({ message })),
  });
}
