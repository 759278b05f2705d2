/**
 * `npx node test/bench/event-marshaller.ts [-- --events 20000 --rounds 3]`
 *
 * CPU per input event of the request body, from the input iterable to the bytes handed to the HTTP handler:
 * the SDK's real serializer (client.send of InvokeModelWithBidirectionalStreamCommand) through the SDK's
 * marshaller or ours (bridge/nova/event-marshaller.ts), then the SDK's signer or ours
 * (bridge/nova/event-signing.ts), or no signer ("serialize only": a pass-through payload handler). The HTTP
 * handler consumes the body in this process (no network). Events are Nova Sonic audioInputs of 432 base64
 * characters. Prints µs per event (process CPU and wall, best round) and checks each group sent equal bytes.
 *
 * Then the other direction: the model's output events (audioOutput, 100 ms of 8 kHz audio each, as the
 * simulator sends them) deserialized by the SDK's marshaller or ours (bridge/nova/event-unmarshaller.ts),
 * from response body bytes in this process to the events the client yields; checks both yield equal events.
 */
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import {
  BedrockRuntimeClient,
  type BedrockRuntimeClientConfig,
  InvokeModelWithBidirectionalStreamCommand,
  type InvokeModelWithBidirectionalStreamInput,
} from "@aws-sdk/client-bedrock-runtime";
import { eventMarshallerProvider } from "../../bridge/nova/event-marshaller.ts";
import { eventSigningProvider } from "../../bridge/nova/event-signing.ts";
import { encodeChunkFrame } from "../../bridge/simulator/event-stream.ts";
import { audioInputEvent } from "../../shared/nova-events.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
  },
});
const eventCount = Number(values.events);
const roundCount = Number(values.rounds);

type Input = InvokeModelWithBidirectionalStreamInput;
type PayloadHandlerProvider = NonNullable<BedrockRuntimeClientConfig["eventStreamPayloadHandlerProvider"]>;

interface Setup {
  name: string;
  group: "serialize only" | "serialize + sign";
  serde: "sdk" | "ours";
  signing: "sdk" | "ours" | "none";
}

const SETUPS: Setup[] = [
  { name: "sdk marshaller", group: "serialize only", serde: "sdk", signing: "none" },
  { name: "our marshaller", group: "serialize only", serde: "ours", signing: "none" },
  { name: "sdk marshaller + sdk signer", group: "serialize + sign", serde: "sdk", signing: "sdk" },
  { name: "sdk marshaller + our signer", group: "serialize + sign", serde: "sdk", signing: "ours" },
  { name: "our marshaller + our signer", group: "serialize + sign", serde: "ours", signing: "ours" },
];

/** Hands the request body on unsigned. */
const passThrough: PayloadHandlerProvider = () => ({ handle: (next, args) => next(args) });

/**
 * An HTTP handler in this process: reads the whole request body (its size goes to `sink`), then answers with
 * `answer`, event-stream bytes in 16 KB pieces (empty by default).
 */
function inProcessHandler(sink: { bytes: number }, answer: Buffer = Buffer.alloc(0)) {
  return {
    metadata: { handlerProtocol: "h2" },
    async handle(request: { body?: unknown }) {
      let bytes = 0;
      if (!(request.body instanceof Readable)) throw new Error("the request body is not a Readable");
      for await (const chunk of request.body) bytes += (chunk as Uint8Array).byteLength;
      sink.bytes = bytes;
      const pieces: Buffer[] = [];
      for (let at = 0; at < answer.length; at += 16_384) pieces.push(answer.subarray(at, at + 16_384));
      const headers = { "content-type": "application/vnd.amazon.eventstream" };
      return { response: { statusCode: 200, headers, body: Readable.from(pieces) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
}

function clientFor(setup: Setup, sink: { bytes: number }): BedrockRuntimeClient {
  const signing =
    setup.signing === "none" ? passThrough : setup.signing === "ours" ? eventSigningProvider() : undefined;
  return new BedrockRuntimeClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret" },
    requestHandler: inProcessHandler(sink),
    ...(setup.serde === "ours" ? { eventStreamSerdeProvider: eventMarshallerProvider() } : {}),
    ...(signing ? { eventStreamPayloadHandlerProvider: signing } : {}),
  });
}

function audioInputs(count: number): Input[] {
  const encoder = new TextEncoder();
  return Array.from({ length: count }, (_, index) => {
    const pcm = Buffer.alloc(322, index % 251);
    const json = JSON.stringify(audioInputEvent("prompt-1", "audio-1", pcm.toString("base64")));
    return { chunk: { bytes: encoder.encode(json) } };
  });
}

async function* yieldAll(items: readonly Input[]): AsyncGenerator<Input> {
  for (const item of items) yield item;
}

async function send(client: BedrockRuntimeClient, events: readonly Input[]): Promise<void> {
  const response = await client.send(
    new InvokeModelWithBidirectionalStreamCommand({
      modelId: "amazon.nova-2-sonic-v1:0",
      body: yieldAll(events),
    }),
  );
  for await (const _ of response.body ?? []) {
    // the answer is empty
  }
}

async function measure(client: BedrockRuntimeClient, events: readonly Input[]) {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await send(client, events);
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    cpuUsPerEvent: (cpu.user + cpu.system) / events.length,
    wallUsPerEvent: (wallMs * 1000) / events.length,
  };
}

const events = audioInputs(eventCount);
const runs = SETUPS.map((setup) => {
  const sink = { bytes: 0 };
  return { setup, sink, client: clientFor(setup, sink), cpu: Infinity, wall: Infinity };
});
for (const run of runs) await send(run.client, events.slice(0, 3000)); // warm-up
for (let round = 0; round < roundCount; round++) {
  for (const run of runs) {
    const result = await measure(run.client, events);
    run.cpu = Math.min(run.cpu, result.cpuUsPerEvent);
    run.wall = Math.min(run.wall, result.wallUsPerEvent);
  }
}
console.log(
  `${eventCount} audioInput events (${events[0]?.chunk?.bytes?.byteLength} bytes of event JSON), best of ${roundCount} rounds (node ${process.version})`,
);
for (const group of ["serialize only", "serialize + sign"] as const) {
  const inGroup = runs.filter((run) => run.setup.group === group);
  console.log(group);
  for (const run of inGroup) {
    console.log(
      `  ${run.setup.name.padEnd(28)} ${run.cpu.toFixed(2)} µs/event CPU, ${run.wall.toFixed(2)} µs/event wall, ${run.sink.bytes} bytes sent`,
    );
  }
  const [first, ...rest] = inGroup;
  const last = inGroup.at(-1);
  if (first && last) console.log(`  ${(first.cpu / last.cpu).toFixed(1)}x less CPU than ${first.setup.name}`);
  if (rest.some((run) => run.sink.bytes !== first?.sink.bytes)) {
    throw new Error(`${group}: the setups sent different amounts of bytes`);
  }
}
for (const run of runs) run.client.destroy();

// ---- output events ----------------------------------------------------------------------------------------

const outputBody = Buffer.concat(
  Array.from({ length: eventCount }, (_, index) =>
    encodeChunkFrame(
      JSON.stringify({
        event: {
          audioOutput: {
            promptName: "prompt-1",
            contentName: "audio-out-1",
            content: Buffer.alloc(1600, index % 251).toString("base64"),
          },
        },
      }),
    ),
  ),
);

async function receive(serde: "sdk" | "ours"): Promise<{ cpuUsPerEvent: number; bytes: number }> {
  const client = new BedrockRuntimeClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret" },
    requestHandler: inProcessHandler({ bytes: 0 }, outputBody),
    eventStreamPayloadHandlerProvider: passThrough,
    ...(serde === "ours" ? { eventStreamSerdeProvider: eventMarshallerProvider() } : {}),
  });
  const cpuBefore = process.cpuUsage();
  const response = await client.send(
    new InvokeModelWithBidirectionalStreamCommand({
      modelId: "amazon.nova-2-sonic-v1:0",
      body: yieldAll([]),
    }),
  );
  let bytes = 0;
  for await (const item of response.body ?? []) bytes += item.chunk?.bytes?.byteLength ?? 0;
  const cpu = process.cpuUsage(cpuBefore);
  client.destroy();
  return { cpuUsPerEvent: (cpu.user + cpu.system) / eventCount, bytes };
}

const output = { sdk: { cpu: Infinity, bytes: 0 }, ours: { cpu: Infinity, bytes: 0 } };
for (let round = 0; round <= roundCount; round++) {
  for (const serde of ["sdk", "ours"] as const) {
    const result = await receive(serde);
    if (round > 0) output[serde].cpu = Math.min(output[serde].cpu, result.cpuUsPerEvent); // round 0: warm-up
    output[serde].bytes = result.bytes;
  }
}
if (output.sdk.bytes !== output.ours.bytes) throw new Error("the marshallers yielded different event bytes");
console.log(
  `${eventCount} audioOutput events (${outputBody.length / eventCount} bytes each on the wire), deserialize, best of ${roundCount} rounds`,
);
console.log(`  sdk marshaller               ${output.sdk.cpu.toFixed(2)} µs/event CPU`);
console.log(`  our marshaller               ${output.ours.cpu.toFixed(2)} µs/event CPU`);
console.log(`  ${(output.sdk.cpu / output.ours.cpu).toFixed(1)}x less CPU than sdk marshaller`);
