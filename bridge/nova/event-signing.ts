/**
 * Signing of the input event stream, a lean drop-in for the SDK's own EventStreamPayloadHandler
 * (@aws-sdk/eventstream-handler-node), passed through the client option `eventStreamPayloadHandlerProvider`.
 * The bytes on the wire are the same: every encoded message from the payload (including the SDK's final
 * empty end-of-input message) is wrapped in an envelope with the headers `:date` (timestamp, ms) then
 * `:chunk-signature` (32 bytes), signed AWS4-HMAC-SHA256-PAYLOAD and chained from the request signature.
 * Faster: node:crypto directly, the signing key derived once per day and credentials, the envelope written
 * into one Buffer, the date strings formatted once per second, and no PassThrough after the signer.
 */
import { createHmac, hash } from "node:crypto";
import { pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import { crc32 } from "node:zlib";
import type { BedrockRuntimeClientConfig } from "@aws-sdk/client-bedrock-runtime";
import { AppError } from "../../shared/errors.ts";
import { EncodedEventStream } from "./event-marshaller.ts";
import { CHECKSUM_BYTES, PRELUDE_BYTES } from "./event-stream-format.ts";

type PayloadHandlerProvider = NonNullable<BedrockRuntimeClientConfig["eventStreamPayloadHandlerProvider"]>;
type PayloadHandler = ReturnType<PayloadHandlerProvider>;
type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export interface EventSigningOptions {
  /** Called synchronously with each signed envelope as it is handed on to the HTTP/2 stream (for benchmarks). */
  onSigned?: (envelope: Uint8Array) => void;
}

/** The parts of the client's resolved config the SDK's message signer reads (see resolveAwsSdkSigV4Config). */
interface SigningConfig {
  credentials?: () => Promise<Credentials>;
  region?: string | (() => Promise<string>);
  signingRegion?: string;
  signingName?: string;
  defaultSigningName?: string;
  serviceId?: string;
  /** Mutated by the SDK's clock-skew correction, so read at every event as the SDK does. */
  systemClockOffset?: number;
}

/** Where the stream is signed for: fixed per stream, like the SDK's message signer. */
interface StreamScope {
  region: string;
  service: string;
  credentials: Promise<Credentials>;
  priorSignature: string;
}

const DATE_HEADER = Buffer.from([5, ...Buffer.from(":date"), 8]);
const SIGNATURE_HEADER = Buffer.from([16, ...Buffer.from(":chunk-signature"), 6, 0, 32]);
const DATE_HEADER_BYTES = DATE_HEADER.length + 8;
const SIGNATURE_OFFSET = PRELUDE_BYTES + DATE_HEADER_BYTES + SIGNATURE_HEADER.length;
const HEADERS_BYTES = DATE_HEADER_BYTES + SIGNATURE_HEADER.length + 32;
const ENVELOPE_OVERHEAD_BYTES = PRELUDE_BYTES + HEADERS_BYTES + CHECKSUM_BYTES;
const TWO_POW_32 = 2 ** 32;
const SIGNATURE_IN_AUTHORIZATION = /Signature=([\w]+)$/;

export function eventSigningProvider(options: EventSigningOptions = {}): PayloadHandlerProvider {
  return (config: SigningConfig) => new EventSigningHandler(config, options);
}

class EventSigningHandler implements PayloadHandler {
  readonly #config: SigningConfig;
  readonly #options: EventSigningOptions;
  #cachedKey: { id: string; key: Buffer } | undefined;
  #dateHashMs = Number.NaN;
  #dateHash = "";

  constructor(config: SigningConfig, options: EventSigningOptions) {
    this.#config = config;
    this.#options = options;
  }

  handle: PayloadHandler["handle"] = async (next, args, context = {}) => {
    const request = args.request;
    if (!isStreamingRequest(request) || !(request.body instanceof Readable)) {
      throw new AppError("model_input_stream", "the event stream payload must be a Readable stream");
    }
    const payload = request.body;
    const seed = request.headers.authorization?.match(SIGNATURE_IN_AUTHORIZATION)?.[1];
    const querySignature = request.query?.["X-Amz-Signature"];
    const staticSignature = "__staticSignature" in context && Boolean(context.__staticSignature);
    const config = this.#config;
    const region =
      config.signingRegion || (typeof config.region === "function" ? await config.region() : config.region);
    const service = config.signingName || config.defaultSigningName || config.serviceId;
    if (!region || !service) throw new AppError("model_input_stream", "no signing region or service name");
    const credentials = config.credentials
      ? config.credentials()
      : Promise.reject(new Error("no credentials provider in the client config"));
    credentials.catch(() => {}); // reported by the first event, which waits for the same promise
    const signer = new ChunkSigner(this, this.#options, {
      region,
      service,
      credentials,
      priorSignature: staticSignature
        ? ""
        : (seed ?? (typeof querySignature === "string" ? querySignature : "")),
    });
    let settled = false;
    let failStream: (error: AppError) => void = () => {};
    const streamError = new Promise<never>((_resolve, reject) => {
      failStream = reject;
    });
    const fail = (error: Error | null | undefined) => {
      if (error && !settled) {
        failStream(
          new AppError("model_input_stream", `input event stream: ${error.message}`, { cause: error }),
        );
      }
    };
    let body: Readable;
    if (payload instanceof EncodedEventStream) {
      // Our marshaller's stream: each message is signed as it leaves, with no stream stage in between.
      const ready = signer.ready();
      ready.catch(() => {}); // the stream awaits it before its first message and fails with its error
      payload.wrapWith({ ready, wrap: (message) => signer.sign(message) });
      payload.once("error", fail);
      body = payload;
    } else {
      body = pipeline(payload, new SigningTransform(signer), fail);
    }
    request.body = body;
    try {
      return await Promise.race([next(args), streamError]);
    } catch (error) {
      // The request failed: the input stream goes too (which closes the session's input iterator).
      body.destroy();
      throw error;
    } finally {
      settled = true;
    }
  };

  /** The signing key for a day, region, service and credentials: derived once, then reused. */
  signingKey(credentials: Credentials, shortDate: string, region: string, service: string): Buffer {
    const { accessKeyId, secretAccessKey, sessionToken } = credentials;
    const id = [shortDate, region, service, accessKeyId, secretAccessKey, sessionToken].join("\n");
    if (this.#cachedKey?.id === id) return this.#cachedKey.key;
    let key = hmac(`AWS4${secretAccessKey}`, shortDate);
    for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
    this.#cachedKey = { id, key };
    return key;
  }

  /**
   * The hash of the `:date` header, which depends only on the time: streams signing in the same
   * millisecond share it (the last one is kept).
   */
  dateHeaderHash(nowMs: number, headerBytes: Uint8Array): string {
    if (nowMs !== this.#dateHashMs) {
      this.#dateHash = hash("sha256", headerBytes, "hex");
      this.#dateHashMs = nowMs;
    }
    return this.#dateHash;
  }

  get systemClockOffsetMs(): number {
    return this.#config.systemClockOffset ?? 0;
  }
}

/**
 * Signs one stream's messages in order, each chained to the signature before it. `ready()` resolves the
 * credentials once; `sign()` then works synchronously.
 */
class ChunkSigner {
  readonly #handler: EventSigningHandler;
  readonly #onSigned: ((envelope: Uint8Array) => void) | undefined;
  readonly #scope: StreamScope;
  #credentials: Credentials | undefined;
  #priorSignature: string;
  #epochSecond = Number.NaN;
  #shortDate = "";
  #key: Buffer = Buffer.alloc(0);
  /** "AWS4-HMAC-SHA256-PAYLOAD\n<amz date>\n<scope>\n", the start of every string to sign this second. */
  #stringToSignPrefix = "";

  constructor(handler: EventSigningHandler, options: EventSigningOptions, scope: StreamScope) {
    this.#handler = handler;
    this.#onSigned = options.onSigned;
    this.#scope = scope;
    this.#priorSignature = scope.priorSignature;
  }

  get isReady(): boolean {
    return this.#credentials !== undefined;
  }

  async ready(): Promise<void> {
    if (this.#credentials) return;
    const resolved = await this.#scope.credentials;
    if (!isValid(resolved)) throw new Error("Resolved credential object is not valid");
    this.#credentials = resolved;
  }

  /** The envelope of `body`: signed with the credentials `ready()` resolved. */
  sign(body: Uint8Array): Buffer {
    const credentials = this.#credentials;
    if (!credentials) throw new AppError("model_input_stream", "signing before the credentials resolved");
    const nowMs = Math.trunc(Date.now() + this.#handler.systemClockOffsetMs);
    const epochSecond = Math.floor(nowMs / 1000);
    if (epochSecond !== this.#epochSecond) this.#newSecond(credentials, epochSecond);
    const totalBytes = ENVELOPE_OVERHEAD_BYTES + body.byteLength;
    const envelope = Buffer.allocUnsafe(totalBytes);
    envelope.writeUInt32BE(totalBytes, 0);
    envelope.writeUInt32BE(HEADERS_BYTES, 4);
    envelope.writeUInt32BE(crc32(envelope.subarray(0, 8)), 8);
    let offset = PRELUDE_BYTES + DATE_HEADER.copy(envelope, PRELUDE_BYTES);
    offset = envelope.writeInt32BE(Math.floor(nowMs / TWO_POW_32), offset);
    offset = envelope.writeUInt32BE(nowMs >>> 0, offset);
    SIGNATURE_HEADER.copy(envelope, offset);
    const dateHeaderHash = this.#handler.dateHeaderHash(nowMs, envelope.subarray(PRELUDE_BYTES, offset));
    const stringToSign = `${this.#stringToSignPrefix}${this.#priorSignature}\n${dateHeaderHash}\n${hash("sha256", body, "hex")}`;
    const signature = createHmac("sha256", this.#key).update(stringToSign).digest();
    signature.copy(envelope, SIGNATURE_OFFSET);
    envelope.set(body, SIGNATURE_OFFSET + 32);
    envelope.writeUInt32BE(
      crc32(envelope.subarray(0, totalBytes - CHECKSUM_BYTES)),
      totalBytes - CHECKSUM_BYTES,
    );
    this.#priorSignature = signature.toString("hex");
    this.#onSigned?.(envelope);
    return envelope;
  }

  #newSecond(credentials: Credentials, epochSecond: number): void {
    const amzDate = new Date(epochSecond * 1000)
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z")
      .replace(/[-:]/g, "");
    const shortDate = amzDate.slice(0, 8);
    const { region, service } = this.#scope;
    if (shortDate !== this.#shortDate) {
      this.#key = this.#handler.signingKey(credentials, shortDate, region, service);
      this.#shortDate = shortDate;
    }
    this.#stringToSignPrefix = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${shortDate}/${region}/${service}/aws4_request\n`;
    this.#epochSecond = epochSecond;
  }
}

/** The signer as a stream stage, for payloads that are not our marshaller's stream. */
class SigningTransform extends Transform {
  readonly #signer: ChunkSigner;

  constructor(signer: ChunkSigner) {
    super({ autoDestroy: true, readableObjectMode: true, writableObjectMode: true });
    this.#signer = signer;
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#signer.isReady) {
      this.#signAndPush(chunk, callback);
      return;
    }
    this.#signer.ready().then(() => this.#signAndPush(chunk, callback), callback);
  }

  #signAndPush(chunk: unknown, callback: TransformCallback): void {
    if (!(chunk instanceof Uint8Array)) {
      callback(new Error("the event stream payload yielded something other than bytes"));
      return;
    }
    try {
      this.push(this.#signer.sign(chunk));
      callback();
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

interface StreamingRequest {
  body: unknown;
  headers: { authorization?: string };
  query?: Record<string, unknown>;
}

function isStreamingRequest(value: unknown): value is StreamingRequest {
  return typeof value === "object" && value !== null && "body" in value && "headers" in value;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** As the SDK's SignatureV4 checks resolved credentials. */
function isValid(credentials: Credentials | undefined): credentials is Credentials {
  return typeof credentials?.accessKeyId === "string" && typeof credentials.secretAccessKey === "string";
}
