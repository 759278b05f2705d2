import { Readable } from "node:stream";
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from "@aws-sdk/client-bedrock-runtime";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../shared/errors.ts";
import { encodeChunkFrame, unwrapInputFrame } from "../simulator/event-stream.ts";
import { createNovaClient } from "./client.ts";
import { eventSigningProvider } from "./event-signing.ts";

type PayloadHandler = BedrockRuntimeClient["config"]["eventStreamPayloadHandler"];

const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN",
};
const REQUEST_SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
const MIDNIGHT_MS = Date.UTC(2026, 0, 31, 24);
/** Signing times around a second change and a day change (new signing key). */
const SIGNING_OFFSETS_MS = [-1300, -1290, -1270, -990, -975, -20, 0, 20, 999, 1000, 1500, 1520];

function audioInputJson(index: number): string {
  const pcm = Buffer.alloc(640, index); // 20 ms of 16 kHz 16-bit audio
  return JSON.stringify({
    event: {
      audioInput: { promptName: "prompt-1", contentName: "audio-1", content: pcm.toString("base64") },
    },
  });
}

/** The encoded messages the SDK's serializer yields: events, then its empty end-of-input message. */
function inputMessages(): Uint8Array[] {
  const events = [
    JSON.stringify({ event: { sessionStart: { inferenceConfiguration: { maxTokens: 1024 } } } }),
    ...Array.from({ length: SIGNING_OFFSETS_MS.length - 3 }, (_, i) => audioInputJson(i)),
    JSON.stringify({ event: { contentEnd: { promptName: "prompt-1", contentName: "audio-1" } } }),
  ];
  return [...events.map((json) => encodeChunkFrame(json)), new Uint8Array(0)];
}

function client(provider: "sdk" | "ours", config: BedrockRuntimeClientConfig = {}): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    region: "us-east-1",
    credentials: CREDENTIALS,
    ...config,
    ...(provider === "ours" ? { eventStreamPayloadHandlerProvider: eventSigningProvider() } : {}),
  });
}

interface SeedOptions {
  headers?: Record<string, string>;
  query?: Record<string, string>;
  context?: Record<string, unknown>;
}

/** Feeds one message per clock reading through a handler; returns the envelopes it sent as the body. */
async function signThrough(
  handler: PayloadHandler,
  clockOffsetMs: number,
  seed: SeedOptions = { headers: { authorization: `AWS4-HMAC-SHA256 Signature=${REQUEST_SIGNATURE}` } },
): Promise<Buffer[]> {
  const payload = new Readable({ objectMode: true, read() {} });
  const request = { headers: seed.headers ?? {}, query: seed.query ?? {}, body: payload as unknown };
  const sent: Buffer[] = [];
  let delivered = () => {};
  const handled = handler.handle(
    async () => {
      if (!(request.body instanceof Readable)) throw new Error("the handler left no readable body");
      for await (const envelope of request.body) {
        sent.push(Buffer.from(envelope));
        delivered();
      }
      return { output: { $metadata: {} }, response: {} };
    },
    { input: {}, request },
    seed.context,
  );
  for (const [index, message] of inputMessages().entries()) {
    vi.setSystemTime(MIDNIGHT_MS + (SIGNING_OFFSETS_MS[index] ?? 0) - clockOffsetMs);
    const arrived = new Promise<void>((resolve) => {
      delivered = resolve;
    });
    payload.push(message);
    await arrived;
  }
  payload.push(null);
  await handled;
  return sent;
}

describe("event signing", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends the same bytes as the SDK's handler, across a second and a day boundary", async () => {
    const sdk = await signThrough(client("sdk").config.eventStreamPayloadHandler, 0);
    const ours = await signThrough(client("ours").config.eventStreamPayloadHandler, 0);
    expect(ours).toHaveLength(SIGNING_OFFSETS_MS.length);
    expect(ours).toEqual(sdk);
    const frames = ours.map((envelope) => unwrapInputFrame(envelope));
    expect(frames.map((frame) => frame.dateMs)).toEqual(SIGNING_OFFSETS_MS.map((ms) => MIDNIGHT_MS + ms));
    expect(new Set(frames.map((frame) => frame.signatureHex)).size).toBe(frames.length);
    expect(frames.at(-1)?.payload.byteLength).toBe(0);
  });

  it("honours the client's clock offset as the SDK does", async () => {
    const config = { systemClockOffset: -7_200_123 };
    const sdk = await signThrough(client("sdk", config).config.eventStreamPayloadHandler, -7_200_123);
    const ours = await signThrough(client("ours", config).config.eventStreamPayloadHandler, -7_200_123);
    expect(ours).toEqual(sdk);
    expect(unwrapInputFrame(ours[0] ?? Buffer.alloc(0)).dateMs).toBe(MIDNIGHT_MS - 1300);
  });

  it.each<[string, SeedOptions]>([
    ["the X-Amz-Signature query", { query: { "X-Amz-Signature": REQUEST_SIGNATURE.replace(/5/g, "6") } }],
    [
      "a static signature",
      {
        headers: { authorization: `AWS4-HMAC-SHA256 Signature=${REQUEST_SIGNATURE}` },
        context: { __staticSignature: true },
      },
    ],
  ])("seeds the chain from %s as the SDK does", async (_name, seed) => {
    const sdk = await signThrough(client("sdk").config.eventStreamPayloadHandler, 0, seed);
    const ours = await signThrough(client("ours").config.eventStreamPayloadHandler, 0, seed);
    expect(ours).toEqual(sdk);
  });

  it("uses the client's signing region and keeps the credentials of the stream", async () => {
    const config = { region: "eu-north-1", credentials: { ...CREDENTIALS, sessionToken: undefined } };
    const sdk = await signThrough(client("sdk", config).config.eventStreamPayloadHandler, 0);
    const ours = await signThrough(client("ours", config).config.eventStreamPayloadHandler, 0);
    expect(ours).toEqual(sdk);
  });

  it("rejects the call with model_input_stream when the payload fails", async () => {
    const handler = createNovaClient({ region: "us-east-1", credentials: CREDENTIALS }).config
      .eventStreamPayloadHandler;
    const failure = new Error("the input iterable threw");
    const payload = Readable.from(
      (async function* () {
        yield encodeChunkFrame(audioInputJson(1));
        throw failure;
      })(),
    );
    const pending = handler.handle(() => new Promise<never>(() => {}), {
      input: {},
      request: { headers: {}, query: {}, body: payload },
    });
    const error = await pending.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "model_input_stream", cause: failure });
  });

  it("rejects a request whose body is not a stream", async () => {
    const handler = client("ours").config.eventStreamPayloadHandler;
    const next = () => Promise.resolve({ output: { $metadata: {} }, response: {} });
    await expect(
      handler.handle(next, { input: {}, request: { headers: {}, body: "{}" } }),
    ).rejects.toMatchObject({ code: "model_input_stream" });
  });

  it("calls onSigned with each envelope it sends", async () => {
    const signed: Uint8Array[] = [];
    const handler = createNovaClient({
      region: "us-east-1",
      credentials: CREDENTIALS,
      eventSigning: { onSigned: (envelope) => signed.push(envelope) },
    }).config.eventStreamPayloadHandler;
    const sent = await signThrough(handler, 0);
    expect(signed.map((envelope) => Buffer.from(envelope))).toEqual(sent);
  });
});
