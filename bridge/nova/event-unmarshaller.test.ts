/**
 * Output events through our marshaller against the SDK's own: the real client (createNovaClient) reads
 * responses from a local h2c server that sends crafted event-stream bytes, once with each marshaller; the
 * events it yields and the error it ends with must be the same. Direct deserialize() calls cut the same
 * bytes at every boundary.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { InvokeModelWithBidirectionalStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { EventStreamCodec, type Message, type MessageHeaders } from "@smithy/core/event-streams";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeChunkFrame, encodeExceptionFrame } from "../simulator/event-stream.ts";
import { createNovaClient } from "./client.ts";
import { eventMarshallerProvider } from "./event-marshaller.ts";
import { startH2cServer } from "./h2c-server-harness.ts";

const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "unmarshaller-test-secret" };
const codec = new EventStreamCodec(
  (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8"),
  (text: string) => new TextEncoder().encode(text),
);

function message(headers: Record<string, string>, body: string): Uint8Array {
  const encoded: MessageHeaders = {};
  for (const [name, value] of Object.entries(headers)) encoded[name] = { type: "string", value };
  return codec.encode({ headers: encoded, body: new TextEncoder().encode(body) });
}

const chunkHeaders = {
  ":message-type": "event",
  ":event-type": "chunk",
  ":content-type": "application/json",
};
const chunkBody = (base64: string) => `{"bytes":"${base64}"}`;

/** The usual events: JSON of every length remainder, non-ASCII text, an empty one, a long audio one. */
function usualEvents(): Uint8Array[] {
  return [
    encodeChunkFrame(JSON.stringify({ event: { completionStart: { promptName: "p" } } })),
    encodeChunkFrame(JSON.stringify({ event: { textOutput: { content: "Grüße — “ok” 👋" } } })),
    encodeChunkFrame("a"),
    encodeChunkFrame("ab"),
    encodeChunkFrame(""),
    encodeChunkFrame(
      JSON.stringify({ event: { audioOutput: { content: Buffer.alloc(9600, 7).toString("base64") } } }),
    ),
  ];
}

/** Streams whose end or some message is not the usual kind: each ends as the SDK decides. */
const UNUSUAL: Record<string, () => Uint8Array[]> = {
  "a modelled exception": () => [
    ...usualEvents().slice(0, 2),
    encodeExceptionFrame("validationException", "bad"),
  ],
  "a modelled timeout": () => [encodeExceptionFrame("modelTimeoutException", "8 minutes")],
  "an exception of an unknown type": () => [
    message({ ":message-type": "exception", ":exception-type": "NovelException" }, '{"message":"new"}'),
  ],
  "an error message": () => [
    message({ ":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom" }, ""),
  ],
  "an unknown event type": () => [
    message({ ...chunkHeaders, ":event-type": "novel" }, "{}"),
    ...usualEvents(),
  ],
  "an unknown message type": () => [message({ ...chunkHeaders, ":message-type": "odd" }, "{}")],
  "JSON in another form": () => [message(chunkHeaders, ' { "bytes" : "e30=" } '), usual(0)],
  "an escaped slash": () => [message(chunkHeaders, chunkBody("ab\\/d"))],
  "base64url characters": () => [message(chunkHeaders, chunkBody("ab-_"))],
  "a character outside base64": () => [message(chunkHeaders, chunkBody("ab*d"))],
  "padding in the middle": () => [message(chunkHeaders, chunkBody("ab=cdefg"))],
  "bad padding length": () => [message(chunkHeaders, chunkBody("abcde"))],
  "three padding characters": () => [message(chunkHeaders, chunkBody("a==="))],
  "non-ASCII inside the base64": () => [message(chunkHeaders, chunkBody("abc\u00e9"))],
  "a corrupt prelude checksum": () => [corrupt(usual(0), 9)],
  "a corrupt message checksum": () => [usual(0), corrupt(usual(1), -1)],
  "a corrupt body": () => [corrupt(usual(2), 40)],
  "a truncated message": () => [usual(0), usual(1).slice(0, 30)],
  "a length too short for a prelude": () => [Uint8Array.from([0, 0, 0, 8, 0, 0, 0, 0])],
  "a length under 4": () => [Uint8Array.from([0, 0, 0, 2, 0, 0, 0, 0])],
};

function usual(index: number): Uint8Array {
  const event = usualEvents()[index];
  if (!event) throw new Error(`no usual event ${index}`);
  return event;
}

function corrupt(bytes: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const index = at < 0 ? copy.length + at : at;
  copy[index] = (copy[index] ?? 0) ^ 0x5a;
  return copy;
}

/** An h2c server that answers every request with the next queued response, written piece by piece. */
async function startResponder() {
  const queue: Uint8Array[][] = [];
  const server = await startH2cServer((stream) => {
    stream.on("data", () => {});
    const pieces = queue.shift() ?? [];
    stream.respond({ ":status": 200, "content-type": "application/vnd.amazon.eventstream" });
    void (async () => {
      for (const piece of pieces) {
        stream.write(piece);
        await nextTurn();
      }
      stream.end();
    })();
  });
  return { ...server, queue };
}

type Responder = Awaited<ReturnType<typeof startResponder>>;

interface Outcome {
  events: unknown[];
  error: { name: string; message: string; kind: string } | null;
}

/** What the client yields for a response made of `pieces`, and how it ends. */
async function readThrough(responder: Responder, serde: "sdk" | "ours", pieces: Uint8Array[]) {
  responder.queue.push(pieces);
  const client = createNovaClient({
    region: "us-east-1",
    endpoint: responder.url,
    credentials: CREDENTIALS,
    eventSerde: serde,
  });
  const outcome: Outcome = { events: [], error: null };
  try {
    const response = await client.send(
      new InvokeModelWithBidirectionalStreamCommand({
        modelId: "amazon.nova-2-sonic-v1:0",
        body: (async function* () {})(),
      }),
    );
    for await (const event of response.body ?? []) outcome.events.push(event);
  } catch (error) {
    const { name, message } = error instanceof Error ? error : { name: "?", message: String(error) };
    outcome.error = { name, message, kind: error?.constructor?.name ?? typeof error };
  } finally {
    client.destroy();
  }
  return outcome;
}

describe("output events through our marshaller", () => {
  let responder: Responder;
  beforeAll(async () => {
    responder = await startResponder();
  });
  afterAll(async () => {
    await responder.close();
  });

  it("yields what the SDK yields for the usual events, in any piece sizes", async () => {
    const events = usualEvents();
    const whole = Buffer.concat(events);
    const sdk = await readThrough(responder, "sdk", events);
    expect(sdk.error).toBeNull();
    expect(sdk.events).toHaveLength(events.length);
    for (const pieces of [
      events,
      [whole],
      [whole.subarray(0, 7), whole.subarray(7, 100), whole.subarray(100)],
    ]) {
      expect(await readThrough(responder, "ours", pieces)).toStrictEqual(sdk);
    }
  });

  it.each(Object.keys(UNUSUAL))("ends as the SDK does on %s", async (name) => {
    const pieces = UNUSUAL[name]?.() ?? [];
    const sdk = await readThrough(responder, "sdk", pieces);
    const ours = await readThrough(responder, "ours", pieces);
    expect(ours).toStrictEqual(sdk);
    // The SDK reads these fine (it skips the unknown event); every other one ends the stream.
    const readFine = ["an unknown event type", "JSON in another form", "an escaped slash"];
    expect(sdk.error === null).toBe(readFine.includes(name));
  });
});

describe("output event splitting", () => {
  const marshaller = createNovaClient({ region: "us-east-1", credentials: CREDENTIALS }).config
    .eventStreamMarshaller;
  const delegated: string[] = [];
  const deserializer = async (event: Record<string, Message>) => {
    delegated.push(Object.keys(event).join());
    return { delegated: true };
  };

  async function collect(pieces: Uint8Array[]): Promise<unknown[]> {
    const body = (async function* () {
      yield* pieces;
    })();
    const events: unknown[] = [];
    for await (const event of marshaller.deserialize(body, deserializer)) events.push(event);
    return events;
  }

  it("is our marshaller", () => {
    expect(eventMarshallerProvider).toBeTypeOf("function");
    expect(marshaller.constructor.name).toBe("EventMarshaller");
  });

  it("cuts messages the same at every byte boundary, without the SDK for the usual events", async () => {
    const whole = Buffer.concat(usualEvents().slice(0, 5));
    const expected = await collect([whole]);
    expect(expected).toHaveLength(5);
    for (let cut = 0; cut <= whole.length; cut++) {
      expect(await collect([whole.subarray(0, cut), whole.subarray(cut)])).toStrictEqual(expected);
    }
    expect(await collect([...whole].map((byte) => Uint8Array.of(byte)))).toStrictEqual(expected);
    expect(delegated).toEqual([]);
  });
});
