/**
 * Deserialization of the output event stream for our marshaller (event-marshaller.ts): the model's events
 * come out as the SDK's own marshaller yields them, faster for the one kind that arrives many times a
 * second. Every output event of Nova Sonic is a `chunk` whose body is `{"bytes":"<base64 of the event
 * JSON>"}`; such a message, with valid checksums and string headers, is decoded here with node:zlib's CRC32
 * and Node's base64 decoder (the SDK checks long base64 strings with a regular expression and walks its
 * schema for each). Any other message (exceptions, errors, other events, anything malformed or in another
 * form) goes to the SDK's marshaller on its own, which yields or throws exactly what it would have.
 * Tests compare the two on the same bytes, split at every boundary, and on each kind of bad input.
 */
import { crc32 } from "node:zlib";
import type { Message } from "@smithy/core/event-streams";
import {
  CHECKSUM_BYTES,
  CHUNK_BODY_END,
  CHUNK_BODY_START,
  PRELUDE_BYTES,
  STRING_HEADER_TYPE,
} from "./event-stream-format.ts";

/** The SDK's marshaller's deserialize(), to which every message not on the fast path goes. */
export type SdkDeserialize = <T>(
  body: unknown,
  deserializer: (input: Record<string, Message>) => Promise<T>,
) => AsyncIterable<T>;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export async function* deserializeEvents<T>(
  body: AsyncIterable<Uint8Array>,
  deserializer: (input: Record<string, Message>) => Promise<T>,
  sdkDeserialize: SdkDeserialize,
): AsyncGenerator<T> {
  const pending = new PendingBytes();
  for await (const chunk of body) {
    pending.add(chunk);
    for (let message = pending.nextMessage(); message !== null; message = pending.nextMessage()) {
      const bytes = chunkEventBytes(message);
      // The SDK yields `{ chunk: { bytes } }` for these: the same shape, built here.
      if (bytes !== null) yield { chunk: { bytes } } as T;
      else yield* sdkDeserialize(once(message), deserializer);
    }
  }
  // What is left is a truncated message: the SDK's marshaller says so in its own words.
  const rest = pending.rest();
  if (rest !== null) yield* sdkDeserialize(once(rest), deserializer);
}

/** A body of one message, for the SDK's marshaller. */
async function* once(bytes: Buffer): AsyncGenerator<Uint8Array> {
  yield new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes as they arrive, cut into whole messages by the total length at the start of each. */
class PendingBytes {
  #chunks: Buffer[] = [];
  #byteCount = 0;

  add(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#byteCount += chunk.byteLength;
  }

  nextMessage(): Buffer | null {
    if (this.#byteCount < 4) return null;
    const head = this.#head(4);
    const totalBytes = head.readUInt32BE(0);
    // A length under 4 cannot hold even itself: cut 4 bytes, which the SDK's marshaller then rejects (its
    // error, its text), as it rejects any other message too short for a prelude.
    const messageBytes = Math.max(totalBytes, 4);
    if (this.#byteCount < messageBytes) return null;
    const first = this.#head(messageBytes);
    const message = first.subarray(0, messageBytes);
    if (first.length > messageBytes) this.#chunks[0] = first.subarray(messageBytes);
    else this.#chunks.shift();
    this.#byteCount -= messageBytes;
    return message;
  }

  rest(): Buffer | null {
    return this.#byteCount === 0 ? null : Buffer.concat(this.#chunks);
  }

  /** The first chunk, merged with those after it until it holds at least `bytes`. */
  #head(bytes: number): Buffer {
    let first = this.#chunks[0] ?? Buffer.alloc(0);
    if (first.length >= bytes) return first;
    let merged = 1;
    let length = first.length;
    while (length < bytes) length += this.#chunks[merged++]?.length ?? 0;
    first = Buffer.concat(this.#chunks.slice(0, merged));
    this.#chunks.splice(0, merged, first);
    return first;
  }
}

/**
 * The event bytes of a valid `chunk` event message in the usual form; null for any other message (or any
 * doubt), which then goes to the SDK.
 */
function chunkEventBytes(message: Buffer): Uint8Array | null {
  if (message.length < PRELUDE_BYTES + CHECKSUM_BYTES) return null;
  const totalBytes = message.readUInt32BE(0);
  const headersBytes = message.readUInt32BE(4);
  if (totalBytes !== message.length || PRELUDE_BYTES + headersBytes + CHECKSUM_BYTES > totalBytes)
    return null;
  if (crc32(message.subarray(0, 8)) !== message.readUInt32BE(8)) return null;
  const checksumAt = totalBytes - CHECKSUM_BYTES;
  if (crc32(message.subarray(0, checksumAt)) !== message.readUInt32BE(checksumAt)) return null;
  const headersEnd = PRELUDE_BYTES + headersBytes;
  if (!isChunkEvent(message, PRELUDE_BYTES, headersEnd)) return null;
  return base64Payload(message, headersEnd, checksumAt);
}

/** String headers only, `:message-type` "event" and `:event-type` "chunk" (others are not read). */
function isChunkEvent(message: Buffer, start: number, end: number): boolean {
  let messageType: string | null = null;
  let eventType: string | null = null;
  let offset = start;
  while (offset < end) {
    const nameBytes = message[offset] ?? 0;
    const nameEnd = offset + 1 + nameBytes;
    if (nameEnd + 3 > end || message[nameEnd] !== STRING_HEADER_TYPE) return false;
    const valueEnd = nameEnd + 3 + message.readUInt16BE(nameEnd + 1);
    if (valueEnd > end) return false;
    const name = message.toString("latin1", offset + 1, nameEnd);
    if (name === ":message-type") messageType = message.toString("utf8", nameEnd + 3, valueEnd);
    else if (name === ":event-type") eventType = message.toString("utf8", nameEnd + 3, valueEnd);
    offset = valueEnd;
  }
  return messageType === "event" && eventType === "chunk";
}

/**
 * The decoded base64 of a body that is exactly `{"bytes":"<base64>"}`, where the SDK would accept the
 * base64 (length a multiple of 4, its alphabet, at most two `=` at the end); null otherwise.
 */
function base64Payload(message: Buffer, start: number, end: number): Uint8Array | null {
  const textStart = start + CHUNK_BODY_START.length;
  const textEnd = end - CHUNK_BODY_END.length;
  if (textEnd < textStart) return null;
  if (message.compare(CHUNK_BODY_START, 0, CHUNK_BODY_START.length, start, textStart) !== 0) return null;
  if (message.compare(CHUNK_BODY_END, 0, CHUNK_BODY_END.length, textEnd, end) !== 0) return null;
  const textBytes = textEnd - textStart;
  if (textBytes % 4 !== 0) return null;
  const text = message.subarray(textStart, textEnd);
  // No quote or escape inside (the JSON string would mean something else), no base64url characters
  // (Node's decoder takes them, the SDK does not).
  if (text.includes(QUOTE) || text.includes(BACKSLASH) || text.includes(0x2d) || text.includes(0x5f)) {
    return null;
  }
  let padding = 0;
  if (textBytes > 0 && text[textBytes - 1] === 0x3d) padding++;
  if (textBytes > 1 && text[textBytes - 2] === 0x3d) padding++;
  const decoded = Buffer.from(text.toString("latin1"), "base64");
  // Node's decoder skips what is not base64 and stops at a `=`: anything of that kind comes out short.
  if (decoded.length !== (textBytes / 4) * 3 - padding) return null;
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
}
