/**
 * Serialization of the input event stream, a lean drop-in for the SDK's own Node marshaller
 * (@smithy/core/event-streams EventStreamMarshaller), passed through the client option
 * `eventStreamSerdeProvider`. The bytes are the same: each event the SDK's serializer turns into
 * `{headers, body}` is encoded as one event-stream message (prelude, headers in the serializer's order,
 * body, CRC32s), then the SDK's empty end-of-input message follows. Faster: one Readable whose `read()`
 * pulls the input iterator directly (the SDK stacks three async generators under `Readable.from`), and
 * string headers (all these events carry) written by hand into one Buffer; messages with other header
 * types or oversized headers go through the SDK's own codec, which also throws its own errors for them.
 * The input events this client sends (`{ chunk: { bytes } }`, the only member of the input union) skip the
 * SDK's schema-driven JSON writer: their message is `{"bytes":"<base64>"}` with the three headers the SDK
 * writes (tests compare the bytes with the SDK's for every length remainder); anything else goes through
 * the SDK's serializer. A signer can wrap each message in its envelope as it leaves (`wrapWith`), which
 * saves a Transform stream per event. Output events: see event-unmarshaller.ts.
 */
import { Readable } from "node:stream";
import { crc32 } from "node:zlib";
import type { BedrockRuntimeClientConfig } from "@aws-sdk/client-bedrock-runtime";
import {
  EventStreamCodec,
  type Message,
  eventStreamSerdeProvider as sdkEventStreamSerdeProvider,
} from "@smithy/core/event-streams";
import { AppError } from "../../shared/errors.ts";
import {
  CHECKSUM_BYTES,
  CHUNK_BODY_END,
  CHUNK_BODY_START,
  PRELUDE_BYTES,
  writeStringHeader,
} from "./event-stream-format.ts";
import { deserializeEvents } from "./event-unmarshaller.ts";

type SerdeProvider = NonNullable<BedrockRuntimeClientConfig["eventStreamSerdeProvider"]>;
type Marshaller = ReturnType<SerdeProvider>;

/** The parts of the client's resolved config the SDK's marshaller reads (utf8Decoder: text to bytes). */
interface SerdeConfig {
  utf8Encoder: (bytes: Uint8Array) => string;
  utf8Decoder: (text: string) => Uint8Array;
}

/** The SDK's limits: longer names or values are its codec's to reject. */
const MAX_HEADER_NAME_BYTES = 255;
const MAX_HEADER_VALUE_BYTES = 32_767;

/** The headers the SDK writes for a `chunk` input event, in its order, encoded once. */
const CHUNK_HEADERS = encodeStringHeaders([
  [":event-type", "chunk"],
  [":message-type", "event"],
  [":content-type", "application/json"],
]);

/**
 * What a signer puts around each encoded message as it leaves the stream. `ready` settles before the first
 * message is wrapped (the signer resolves its credentials); a rejection or a throw from `wrap` destroys the
 * stream with that error.
 */
export interface MessageEnvelope {
  ready: Promise<void>;
  wrap(message: Uint8Array): Uint8Array;
}

export function eventMarshallerProvider(): SerdeProvider {
  return (config: SerdeConfig) => new EventMarshaller(config);
}

class EventMarshaller implements Marshaller {
  readonly #sdk: Marshaller;
  readonly #codec: EventStreamCodec;

  constructor(config: SerdeConfig) {
    this.#sdk = sdkEventStreamSerdeProvider(config);
    this.#codec = new EventStreamCodec(config.utf8Encoder, config.utf8Decoder);
  }

  serialize<T>(input: AsyncIterable<T>, serializer: (event: T) => Message): Readable {
    return new EncodedEventStream(input[Symbol.asyncIterator](), serializer, this.#codec);
  }

  deserialize<T>(
    body: unknown,
    deserializer: (input: Record<string, Message>) => Promise<T>,
  ): AsyncIterable<T> {
    if (!isAsyncIterable(body)) return this.#sdk.deserialize(body, deserializer);
    return deserializeEvents(body, deserializer, (one, sdkDeserializer) =>
      this.#sdk.deserialize(one, sdkDeserializer),
    );
  }
}

/**
 * Encoded messages of the input events, one object per message, pulled one event at a time as the consumer
 * reads (high-water mark 1, as `Readable.from`). An error of the input or of the serializer destroys the
 * stream with that error; destroying the stream closes the input iterator as `Readable.from` does.
 */
export class EncodedEventStream<T> extends Readable {
  readonly #input: AsyncIterator<T>;
  readonly #serializer: (event: T) => Message;
  readonly #codec: EventStreamCodec;
  #pulling = false;
  #envelope: MessageEnvelope | undefined;
  #envelopeReady = false;
  /** The input iterator has finished (done or thrown) or been closed: nothing left to close. */
  #inputSettled = false;

  constructor(input: AsyncIterator<T>, serializer: (event: T) => Message, codec: EventStreamCodec) {
    super({ objectMode: true, highWaterMark: 1 });
    this.#input = input;
    this.#serializer = serializer;
    this.#codec = codec;
  }

  /** Wrap every message from now on (set before anything is read: the first message waits for `ready`). */
  wrapWith(envelope: MessageEnvelope): void {
    if (this.#envelope || this.readableDidRead) {
      throw new AppError("model_input_stream", "the input event stream is already being read or wrapped");
    }
    this.#envelope = envelope;
  }

  override _read(): void {
    if (this.#pulling) return;
    this.#pulling = true;
    void this.#pull();
  }

  async #pull(): Promise<void> {
    try {
      while (true) {
        let next: IteratorResult<T>;
        try {
          next = await this.#input.next();
        } catch (error) {
          this.#inputSettled = true;
          throw error;
        }
        if (this.destroyed) return;
        const envelope = this.#envelope;
        if (envelope && !this.#envelopeReady) {
          await envelope.ready;
          this.#envelopeReady = true;
          if (this.destroyed) return;
        }
        if (next.done) {
          this.#inputSettled = true;
          const end = new Uint8Array(0);
          this.push(envelope ? envelope.wrap(end) : end);
          this.push(null);
          return;
        }
        const value = next.value;
        const message = isChunkEvent(value)
          ? encodeChunkMessage(value.chunk.bytes)
          : encodeMessage(this.#serializer(value), this.#codec);
        if (!this.push(envelope ? envelope.wrap(message) : message)) break;
      }
      this.#pulling = false;
    } catch (error) {
      this.destroy(
        error instanceof Error
          ? error
          : new AppError("model_input_stream", "the input event stream threw a non-Error", { cause: error }),
      );
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#inputSettled) {
      callback(error);
      return;
    }
    this.#inputSettled = true;
    closeIterator(this.#input, error).then(
      () => process.nextTick(callback, error),
      (closeError: unknown) =>
        process.nextTick(callback, error ?? (closeError instanceof Error ? closeError : null)),
    );
  }
}

/** As `Readable.from` closes its iterator: throw the error into it (if any), then return. */
async function closeIterator<T>(iterator: AsyncIterator<T>, error: Error | null): Promise<void> {
  if (error && iterator.throw) {
    const thrown = await iterator.throw(error);
    if (thrown.done) return;
  }
  await iterator.return?.();
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** An input event of the one shape this client sends: `{ chunk: { bytes } }` and nothing else. */
function isChunkEvent(value: unknown): value is { chunk: { bytes: Uint8Array } } {
  if (typeof value !== "object" || value === null || !("chunk" in value)) return false;
  const chunk = value.chunk;
  if (typeof chunk !== "object" || chunk === null || !("bytes" in chunk)) return false;
  if (!(chunk.bytes instanceof Uint8Array)) return false;
  return onlyOwnKey(value, "chunk") && onlyOwnKey(chunk, "bytes");
}

function onlyOwnKey(value: object, key: string): boolean {
  let count = 0;
  for (const name in value) {
    if (name !== key || !Object.hasOwn(value, name)) return false;
    count++;
  }
  return count === 1 && Object.getOwnPropertySymbols(value).length === 0;
}

/** The message the SDK's serializer and codec make of `{ chunk: { bytes } }`, written directly. */
function encodeChunkMessage(bytes: Uint8Array): Buffer {
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  const bodyBytes = CHUNK_BODY_START.length + base64.length + CHUNK_BODY_END.length;
  const totalBytes = PRELUDE_BYTES + CHUNK_HEADERS.length + bodyBytes + CHECKSUM_BYTES;
  const out = Buffer.allocUnsafe(totalBytes);
  out.writeUInt32BE(totalBytes, 0);
  out.writeUInt32BE(CHUNK_HEADERS.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  let offset = PRELUDE_BYTES + CHUNK_HEADERS.copy(out, PRELUDE_BYTES);
  offset += CHUNK_BODY_START.copy(out, offset);
  offset += out.write(base64, offset, "latin1");
  CHUNK_BODY_END.copy(out, offset);
  out.writeUInt32BE(crc32(out.subarray(0, totalBytes - CHECKSUM_BYTES)), totalBytes - CHECKSUM_BYTES);
  return out;
}

/** String headers in event-stream encoding, one after the other. */
function encodeStringHeaders(headers: readonly (readonly [string, string])[]): Buffer {
  let bytes = 0;
  for (const [name, value] of headers) bytes += 1 + Buffer.byteLength(name) + 3 + Buffer.byteLength(value);
  const out = Buffer.alloc(bytes);
  let offset = 0;
  for (const [name, value] of headers) offset = writeStringHeader(out, offset, name, value);
  return out;
}

/** One event-stream message, byte for byte as the SDK's EventStreamCodec.encode writes it. */
export function encodeMessage(message: Message, codec: EventStreamCodec): Uint8Array {
  const { headers, body } = message;
  if (!(body instanceof Uint8Array)) return codec.encode(message);
  let headersBytes = 0;
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const header = headers[name];
    if (header?.type !== "string" || typeof header.value !== "string") return codec.encode(message);
    const nameBytes = Buffer.byteLength(name);
    const valueBytes = Buffer.byteLength(header.value);
    if (nameBytes > MAX_HEADER_NAME_BYTES || valueBytes > MAX_HEADER_VALUE_BYTES) {
      return codec.encode(message);
    }
    headersBytes += 1 + nameBytes + 3 + valueBytes;
  }
  const totalBytes = PRELUDE_BYTES + headersBytes + body.byteLength + CHECKSUM_BYTES;
  const out = Buffer.allocUnsafe(totalBytes);
  out.writeUInt32BE(totalBytes, 0);
  out.writeUInt32BE(headersBytes, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  let offset = PRELUDE_BYTES;
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    const value = headers[name]?.value;
    if (typeof value !== "string") continue; // every header is a string here (checked above)
    offset = writeStringHeader(out, offset, name, value);
  }
  out.set(body, offset);
  out.writeUInt32BE(crc32(out.subarray(0, totalBytes - CHECKSUM_BYTES)), totalBytes - CHECKSUM_BYTES);
  return out;
}
