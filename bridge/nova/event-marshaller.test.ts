/**
 * Our input event marshaller against the SDK's own: whole InvokeModelWithBidirectionalStream requests sent by
 * the real SDK over HTTP/2 (h2c) to a local server that records the request body, once with each marshaller
 * and the clock frozen, must carry the same bytes. Direct serialize() calls cover every header type, the
 * SDK's errors, backpressure and input errors.
 */
import { Readable, Writable } from "node:stream";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import {
  BedrockRuntimeClient,
  InvokeModelWithBidirectionalStreamCommand,
  type InvokeModelWithBidirectionalStreamInput,
} from "@aws-sdk/client-bedrock-runtime";
import { Int64, type Message, type MessageHeaders } from "@smithy/core/event-streams";
import type { FinalizeHandler, FinalizeHandlerArguments, MetadataBearer } from "@smithy/types";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../shared/errors.ts";
import {
  audioContentStartEvent,
  audioInputEvent,
  contentEndEvent,
  promptEndEvent,
  promptStartEvent,
  sessionEndEvent,
  sessionStartEvent,
  textContentStartEvent,
  textInputEvent,
} from "../../shared/nova-events.ts";
import { encodeChunkFrame, FrameSplitter, unwrapInputFrame } from "../simulator/event-stream.ts";
import { createNovaClient } from "./client.ts";
import { eventMarshallerProvider } from "./event-marshaller.ts";
import { startH2cServer } from "./h2c-server-harness.ts";

type Input = InvokeModelWithBidirectionalStreamInput;
type Marshaller = BedrockRuntimeClient["config"]["eventStreamMarshaller"];

const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "marshaller-test-secret" };
const FROZEN_NOW_MS = Date.UTC(2026, 4, 17, 9, 30, 12, 345);
const PROMPT = "prompt-1";
const AUDIO_EVENTS = 120;
const REPLY_JSON = JSON.stringify({ event: { completionStart: { promptName: PROMPT } } });
const encoder = new TextEncoder();

/** A realistic call's input: setup, a system prompt, 120 audioInputs of 432 base64 characters, the end. */
function novaInput(): Input[] {
  const events: object[] = [
    sessionStartEvent({ maxTokens: 1024, topP: 0.9, temperature: 0.7, endpointingSensitivity: "HIGH" }),
    promptStartEvent({ promptName: PROMPT, outputSampleRateHz: 8000, voiceId: "matthew" }),
    textContentStartEvent(PROMPT, "system-1", "SYSTEM", false),
    textInputEvent(PROMPT, "system-1", "You are a helpful phone agent. Réponds poliment — “merci” 👋"),
    contentEndEvent(PROMPT, "system-1"),
    audioContentStartEvent(PROMPT, "audio-1", 16000),
  ];
  for (let frame = 0; frame < AUDIO_EVENTS; frame++) {
    const pcm = Buffer.alloc(322);
    for (let i = 0; i < 161; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((frame * 161 + i) / 7)), i * 2);
    events.push(audioInputEvent(PROMPT, "audio-1", pcm.toString("base64")));
  }
  events.push(contentEndEvent(PROMPT, "audio-1"), promptEndEvent(PROMPT), sessionEndEvent());
  return events.map((event) => ({ chunk: { bytes: encoder.encode(JSON.stringify(event)) } }));
}

async function* yieldAll<T>(items: readonly T[], failure?: Error): AsyncGenerator<T> {
  for (const item of items) yield item;
  if (failure) throw failure;
}

/** An h2c server that records each request body and replies with one chunk event once the body ends. */
async function startRecorder(options: { readBodies: boolean }) {
  const bodies: Promise<Buffer>[] = [];
  const server = await startH2cServer((stream) => {
    if (!options.readBodies) return; // never read: the client's flow-control window fills up
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    bodies.push(
      new Promise((resolve) => {
        stream.on("end", () => {
          resolve(Buffer.concat(chunks));
          stream.respond({ ":status": 200, "content-type": "application/vnd.amazon.eventstream" });
          stream.end(encodeChunkFrame(REPLY_JSON));
        });
      }),
    );
  });
  return { ...server, bodies };
}

type Recorder = Awaited<ReturnType<typeof startRecorder>>;

/** The request's signature chains into every event's: pin the one random signed header, the invocation id. */
function pinInvocationId(client: BedrockRuntimeClient): void {
  client.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<object, MetadataBearer>) => (args: FinalizeHandlerArguments<object>) => {
      const request = args.request;
      if (typeof request === "object" && request !== null && "headers" in request) {
        const headers = request.headers as Record<string, string>;
        headers["amz-sdk-invocation-id"] = "00000000-0000-4000-8000-000000000000";
      }
      return next(args);
    },
    { relation: "before", toMiddleware: "httpSigningMiddleware", name: "pinInvocationId" },
  );
}

async function sendThrough(
  recorder: Recorder,
  serde: "sdk" | "ours",
  signing: "sdk" | "ours",
  input: Input[],
): Promise<{ body: Buffer; replies: string[] }> {
  const client = createNovaClient({
    region: "us-east-1",
    endpoint: recorder.url,
    credentials: CREDENTIALS,
    eventSerde: serde,
    eventSigning: signing === "sdk" ? "sdk" : {},
  });
  pinInvocationId(client);
  try {
    const response = await client.send(
      new InvokeModelWithBidirectionalStreamCommand({
        modelId: "amazon.nova-2-sonic-v1:0",
        body: yieldAll(input),
      }),
    );
    const replies: string[] = [];
    for await (const item of response.body ?? []) {
      if (item.chunk?.bytes) replies.push(Buffer.from(item.chunk.bytes).toString());
    }
    const body = await recorder.bodies.at(-1);
    if (!body) throw new Error("the server saw no request");
    return { body, replies };
  } finally {
    client.destroy();
  }
}

function marshallers(): { sdk: Marshaller; ours: Marshaller } {
  const config = { region: "us-east-1", credentials: CREDENTIALS };
  return {
    sdk: new BedrockRuntimeClient(config).config.eventStreamMarshaller,
    ours: new BedrockRuntimeClient({ ...config, eventStreamSerdeProvider: eventMarshallerProvider() }).config
      .eventStreamMarshaller,
  };
}

/** Everything a marshaller's stream yields, and the error it ends with (if any). */
async function drain(stream: unknown): Promise<{ messages: Buffer[]; error: unknown }> {
  if (!(stream instanceof Readable)) throw new Error("serialize() did not return a Readable");
  const messages: Buffer[] = [];
  try {
    for await (const message of stream) messages.push(Buffer.from(message as Uint8Array));
    return { messages, error: undefined };
  } catch (error) {
    return { messages, error };
  }
}

describe("input event marshaller over HTTP/2", () => {
  let recorder: Recorder;
  beforeAll(async () => {
    recorder = await startRecorder({ readBodies: true });
  });
  afterAll(async () => {
    await recorder.close();
  });
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(FROZEN_NOW_MS);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(["sdk", "ours"] as const)("sends the SDK's bytes, signed by the %s signer", async (signing) => {
    const input = novaInput();
    const sdk = await sendThrough(recorder, "sdk", signing, input);
    const ours = await sendThrough(recorder, "ours", signing, input);
    expect(ours.body.equals(sdk.body)).toBe(true);
    const frames = new FrameSplitter().push(ours.body).map((frame) => unwrapInputFrame(frame));
    expect(frames).toHaveLength(input.length + 1);
    expect(frames.map((frame) => frame.eventBytes && Buffer.from(frame.eventBytes))).toEqual([
      ...input.map((item) => Buffer.from(item.chunk?.bytes ?? [])),
      undefined,
    ]);
    expect(new Set(frames.map((frame) => frame.dateMs))).toEqual(new Set([FROZEN_NOW_MS]));
    expect(ours.replies).toEqual([REPLY_JSON]);
  });

  it("writes chunk events of every length remainder, and non-ASCII JSON, as the SDK does", async () => {
    const input: Input[] = [
      ...Array.from({ length: 8 }, (_, length) => Uint8Array.from({ length }, (_, i) => 251 - i * 37)),
      encoder.encode(JSON.stringify({ event: { textInput: { content: "Grüße — “ok” 👋" } } })),
    ].map((bytes) => ({ chunk: { bytes } }));
    const sdk = await sendThrough(recorder, "sdk", "sdk", input);
    const ours = await sendThrough(recorder, "ours", "ours", input);
    expect(ours.body.equals(sdk.body)).toBe(true);
    const frames = new FrameSplitter().push(ours.body).map((frame) => unwrapInputFrame(frame));
    expect(frames.slice(0, -1).map((frame) => Buffer.from(frame.eventBytes ?? []))).toEqual(
      input.map((item) => Buffer.from(item.chunk?.bytes ?? [])),
    );
  });

  it("fails the call with model_input_stream when the input iterable throws", async () => {
    const failure = new Error("the caller's audio source broke");
    const client = createNovaClient({
      region: "us-east-1",
      endpoint: recorder.url,
      credentials: CREDENTIALS,
    });
    const sent = client.send(
      new InvokeModelWithBidirectionalStreamCommand({
        modelId: "amazon.nova-2-sonic-v1:0",
        body: yieldAll(novaInput().slice(0, 3), failure),
      }),
    );
    const error = await sent.catch((caught: unknown) => caught);
    client.destroy();
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "model_input_stream", cause: failure });
  });
});

describe("input event marshaller", () => {
  it("encodes every header type, and non-ASCII strings, as the SDK's codec does", async () => {
    const { sdk, ours } = marshallers();
    const uuid = "6f0e2a9c-3b1d-4e8f-9a7b-2c4d6e8f0a1b";
    const messages: Message[] = [
      {
        headers: {
          ":event-type": { type: "string", value: "chunk" },
          "x-note": { type: "string", value: "Grüße — “ok” 👋 \ud800" },
          "": { type: "string", value: "" },
        },
        body: encoder.encode('{"bytes":"e30="}'),
      },
      { headers: {}, body: new Uint8Array(0) },
      {
        headers: {
          yes: { type: "boolean", value: true },
          no: { type: "boolean", value: false },
          byte: { type: "byte", value: -7 },
          short: { type: "short", value: -1234 },
          int: { type: "integer", value: 2_000_000_123 },
          long: { type: "long", value: Int64.fromNumber(-(2 ** 40) - 5) },
          blob: { type: "binary", value: Uint8Array.from([0, 1, 254, 255]) },
          at: { type: "timestamp", value: new Date(FROZEN_NOW_MS) },
          id: { type: "uuid", value: uuid },
          last: { type: "string", value: "after the others" },
        },
        body: encoder.encode("payload"),
      },
    ];
    const serialize = (marshaller: Marshaller) =>
      drain(marshaller.serialize(yieldAll(messages), (message: Message) => message));
    const expected = await drain(sdk.serialize(yieldAll(messages), (message: Message) => message));
    const actual = await serialize(ours);
    expect(expected.messages).toHaveLength(messages.length + 1);
    expect(actual).toEqual(expected);
  });

  it("fails as the SDK does on a header it cannot encode", async () => {
    const { sdk, ours } = marshallers();
    const headers: MessageHeaders = { [`x-${"n".repeat(300)}`]: { type: "string", value: "v" } };
    const messages = [
      { headers: {}, body: encoder.encode("first") },
      { headers, body: new Uint8Array(0) },
    ];
    const expected = await drain(sdk.serialize(yieldAll(messages), (message: Message) => message));
    const actual = await drain(ours.serialize(yieldAll(messages), (message: Message) => message));
    expect(expected.error).toBeInstanceOf(Error);
    expect(actual.messages).toEqual(expected.messages);
    expect(actual.error).toEqual(expected.error);
  });

  it("destroys the stream with the input's error, after the messages before it", async () => {
    const { sdk, ours } = marshallers();
    const failure = new Error("input broke");
    // Not the chunk shape (which the fast path encodes itself): these go through the given serializer.
    const input = novaInput()
      .slice(0, 4)
      .map((item) => ({ payload: item.chunk?.bytes ?? new Uint8Array(0) }));
    const serializer = (item: { payload: Uint8Array }): Message => ({
      headers: { ":event-type": { type: "string", value: "chunk" } },
      body: item.payload,
    });
    const expected = await drain(sdk.serialize(yieldAll(input, failure), serializer));
    const actual = await drain(ours.serialize(yieldAll(input, failure), serializer));
    expect(actual.error).toBe(failure);
    expect(actual.messages).toHaveLength(4);
    expect(actual).toEqual(expected);
  });

  it("pulls no faster than a stuck consumer takes, and closes the input when destroyed", async () => {
    const { ours } = marshallers();
    let pulled = 0;
    let closed = false;
    async function* endless(): AsyncGenerator<Message> {
      try {
        while (true) {
          pulled++;
          yield { headers: {}, body: encoder.encode(`event ${pulled}`) };
        }
      } finally {
        closed = true;
      }
    }
    const stream = ours.serialize(endless(), (message: Message) => message) as Readable;
    const held: (() => void)[] = [];
    const consumer = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        held.push(callback);
      },
    });
    stream.pipe(consumer);
    for (let turn = 0; turn < 20; turn++) await nextTurn();
    const whileStuck = pulled;
    expect(whileStuck).toBeLessThanOrEqual(4);
    for (let taken = 0; taken < 10; taken++) {
      held.shift()?.();
      for (let turn = 0; turn < 5; turn++) await nextTurn();
    }
    expect(pulled).toBeGreaterThan(whileStuck);
    expect(pulled).toBeLessThanOrEqual(whileStuck + 10);
    stream.destroy();
    await sleep(0);
    expect(closed).toBe(true);
  });

  it("stops pulling when the HTTP/2 stream is stuck", async () => {
    const stuck = await startRecorder({ readBodies: false });
    const client = createNovaClient({ region: "us-east-1", endpoint: stuck.url, credentials: CREDENTIALS });
    const audio = novaInput()[10];
    if (!audio) throw new Error("no audioInput event");
    let pulled = 0;
    const endless = async function* (): AsyncGenerator<Input> {
      while (true) {
        pulled++;
        yield audio;
        if (pulled % 50 === 0) await nextTurn();
      }
    };
    const abort = new AbortController();
    const sent = client
      .send(
        new InvokeModelWithBidirectionalStreamCommand({
          modelId: "amazon.nova-2-sonic-v1:0",
          body: endless(),
        }),
        { abortSignal: abort.signal },
      )
      .catch((error: unknown) => error);
    let last = -1;
    let stillRounds = 0;
    while (stillRounds < 5) {
      last = pulled;
      await sleep(20);
      stillRounds = pulled === last ? stillRounds + 1 : 0;
    }
    // One flow-control window (64 KiB) of ~700-byte envelopes, plus the streams' small buffers.
    expect(pulled).toBeGreaterThan(50);
    expect(pulled).toBeLessThan(400);
    abort.abort();
    await sent;
    client.destroy();
    await stuck.close();
  });
});
