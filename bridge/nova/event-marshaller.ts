/**
 * Serialization of the input event stream, a lean drop-in for the SDK's own Node marshaller
 * (@smithy/core/event-streams EventStreamMarshaller), passed through the client option
 * `eventStreamSerdeProvider`. The bytes are the same: each event the SDK's serializer turns into
 * `{headers, body}` is encoded as one event-stream message (prelude, headers in the serializer's order,
 * body, CRC32s), then the SDK's empty end-of-input message follows. Faster: one Readable whose `read()`
 * pulls the input iterator directly (the SDK stacks three async generators under `Readable.from`), and
 * string headers (all these events carry) written by hand into one Buffer; messages with other header
 * types or oversized headers go through the SDK's own codec, which also throws its own errors for them.
 * Output events are deserialized by the SDK's marshaller, unchanged.
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

type SerdeProvider = NonNullable<BedrockRuntimeClientConfig["eventStreamSerdeProvider"]>;
type Marshaller = ReturnType<SerdeProvider>;

/** The parts of the client's resolved config the SDK's marshaller reads (utf8Decoder: text to bytes). */
interface SerdeConfig {
  utf8Encoder: (bytes: Uint8Array) => string;
  utf8Decoder: (text: string) => Uint8Array;
}

const PRELUDE_BYTES = 12;
const CHECKSUM_BYTES = 4;
const STRING_HEADER_TYPE = 7;
/** The SDK's limits: longer names or values are its codec's to reject. */
const MAX_HEADER_NAME_BYTES = 255;
const MAX_HEADER_VALUE_BYTES = 32_767;

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

  deserialize<T>(body: unknown, deserializer: (input: Record<string, Message>) => Promise<T>) {
    return this.#sdk.deserialize(body, deserializer);
  }
}

/**
 * Encoded messages of the input events, one object per message, pulled one event at a time as the consumer
 * reads (high-water mark 1, as `Readable.from`). An error of the input or of the serializer destroys the
 * stream with that error; destroying the stream closes the input iterator as `Readable.from` does.
 */
class EncodedEventStream<T> extends Readable {
  readonly #input: AsyncIterator<T>;
  readonly #serializer: (event: T) => Message;
  readonly #codec: EventStreamCodec;
  #pulling = false;
  /** The input iterator has finished (done or thrown) or been closed: nothing left to close. */
  #inputSettled = false;

  constructor(input: AsyncIterator<T>, serializer: (event: T) => Message, codec: EventStreamCodec) {
    super({ objectMode: true, highWaterMark: 1 });
    this.#input = input;
    this.#serializer = serializer;
    this.#codec = codec;
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
        if (next.done) {
          this.#inputSettled = true;
          this.push(new Uint8Array(0));
          this.push(null);
          return;
        }
        if (!this.push(encodeMessage(this.#serializer(next.value), this.#codec))) break;
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
    const nameBytes = out.write(name, offset + 1);
    out[offset] = nameBytes;
    offset += 1 + nameBytes;
    out[offset] = STRING_HEADER_TYPE;
    const valueBytes = out.write(value, offset + 3);
    out.writeUInt16BE(valueBytes, offset + 1);
    offset += 3 + valueBytes;
  }
  out.set(body, offset);
  out.writeUInt32BE(crc32(out.subarray(0, totalBytes - CHECKSUM_BYTES)), totalBytes - CHECKSUM_BYTES);
  return out;
}
