/**
 * `npx node test/bench/event-signing.ts [-- --events 50000 --bytes 600 --rounds 3]`
 *
 * CPU per input event of the request-body signing: the SDK's own EventStreamPayloadHandler (SigV4 via
 * @smithy/signature-v4, then a PassThrough) against ours (bridge/nova/event-signing.ts). Each round pushes
 * the same encoded messages through each handler in this process, from a Readable.from() payload (as the
 * SDK's serializer makes it) to a consumer of the request body; no network. Prints µs per event (process
 * CPU time and wall time, best round), and checks both sent the same number of bytes.
 */
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import { eventSigningProvider } from "../../bridge/nova/event-signing.ts";
import { encodeChunkFrame } from "../../bridge/simulator/event-stream.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "50000" },
    bytes: { type: "string", default: "600" },
    rounds: { type: "string", default: "3" },
  },
});
const eventCount = Number(values.events);
const eventBytes = Number(values.bytes);
const roundCount = Number(values.rounds);

const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "bench-secret",
  sessionToken: "bench-token",
};
const AUTHORIZATION = `AWS4-HMAC-SHA256 Signature=${"ab".repeat(32)}`;

type PayloadHandler = BedrockRuntimeClient["config"]["eventStreamPayloadHandler"];

function handlerOf(kind: "sdk" | "ours"): PayloadHandler {
  return new BedrockRuntimeClient({
    region: "us-east-1",
    credentials: CREDENTIALS,
    ...(kind === "ours" ? { eventStreamPayloadHandlerProvider: eventSigningProvider() } : {}),
  }).config.eventStreamPayloadHandler;
}

/** One encoded message of about `bytes` bytes (an audioInput-like JSON document in a chunk event). */
function message(index: number, bytes: number): Uint8Array {
  const json = JSON.stringify({ event: { audioInput: { promptName: "p", contentName: "c", content: "" } } });
  const contentChars = Math.max(0, Math.floor(((bytes - 100) * 3) / 4) - json.length);
  return encodeChunkFrame(
    json.replace('"content":""', `"content":"${String(index % 10).repeat(contentChars)}"`),
  );
}

async function run(handler: PayloadHandler, messages: Uint8Array[]): Promise<{ sentBytes: number }> {
  const request = {
    headers: { authorization: AUTHORIZATION },
    query: {},
    body: Readable.from(messages) as unknown,
  };
  let sentBytes = 0;
  await handler.handle(
    async () => {
      const body = request.body;
      if (!(body instanceof Readable)) throw new Error("no readable body");
      for await (const envelope of body) sentBytes += (envelope as Uint8Array).byteLength;
      return { output: { $metadata: {} }, response: {} };
    },
    { input: {}, request },
  );
  return { sentBytes };
}

async function measure(handler: PayloadHandler, messages: Uint8Array[]) {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const { sentBytes } = await run(handler, messages);
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    sentBytes,
    cpuUsPerEvent: (cpuMs * 1000) / messages.length,
    wallUsPerEvent: (wallMs * 1000) / messages.length,
  };
}

const messages = Array.from({ length: eventCount }, (_, i) => message(i, eventBytes));
const handlers = { sdk: handlerOf("sdk"), ours: handlerOf("ours") };
for (const handler of Object.values(handlers)) await run(handler, messages.slice(0, 5000)); // warm-up
const best = {
  sdk: { cpu: Infinity, wall: Infinity, bytes: 0 },
  ours: { cpu: Infinity, wall: Infinity, bytes: 0 },
};
for (let round = 0; round < roundCount; round++) {
  for (const kind of ["sdk", "ours"] as const) {
    const result = await measure(handlers[kind], messages);
    best[kind] = {
      cpu: Math.min(best[kind].cpu, result.cpuUsPerEvent),
      wall: Math.min(best[kind].wall, result.wallUsPerEvent),
      bytes: result.sentBytes,
    };
  }
}
console.log(
  `${eventCount} events of ${messages[0]?.byteLength} bytes, best of ${roundCount} rounds (node ${process.version})`,
);
for (const kind of ["sdk", "ours"] as const) {
  console.log(
    `${kind.padEnd(5)} ${best[kind].cpu.toFixed(2)} µs/event CPU, ${best[kind].wall.toFixed(2)} µs/event wall, ${best[kind].bytes} bytes sent`,
  );
}
console.log(`ratio ${(best.sdk.cpu / best.ours.cpu).toFixed(1)}x less CPU`);
if (best.sdk.bytes !== best.ours.bytes) throw new Error("the two handlers sent different amounts of bytes");
