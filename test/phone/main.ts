/**
 * `npm run call`: a phone call without a phone, against the local stack (`npm start`) or any edge.
 *
 *   npm run call                       the default conversation, with one barge-in
 *   npm run call -- --no-barge-in      the same without talking over the agent
 *   npm run call -- --say order-status,transfer   your own list of utterances (fixture names)
 *   npm run call -- --wav heard.wav    where to write what the caller heard (default: call-<CallSid>.wav)
 *
 * Environment: EDGE_URL (default http://127.0.0.1:$EDGE_PORT, 8787), TWILIO_AUTH_TOKEN and ADMIN_TOKEN
 * (default: the dev-only values of the local stack).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { mulawToPcm16 } from "../../shared/audio/mulaw.ts";
import { DEV_DEFAULTS } from "../stack/local-stack.ts";
import { type CallResult, type CallStep, placeCall } from "./phone-call.ts";
import { defaultScript, SpeechLibrary } from "./script.ts";
import { fetchCallRecord, waterfall } from "./waterfall.ts";
import { wavFromPcm16 } from "./wav.ts";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "no-barge-in": { type: "boolean", default: false },
      say: { type: "string" },
      wav: { type: "string" },
      edge: { type: "string" },
    },
  });
  const edgeUrl =
    values.edge ?? process.env.EDGE_URL ?? `http://127.0.0.1:${process.env.EDGE_PORT ?? "8787"}`;
  const authToken = process.env.TWILIO_AUTH_TOKEN ?? DEV_DEFAULTS.TWILIO_AUTH_TOKEN;
  const adminToken = process.env.ADMIN_TOKEN ?? DEV_DEFAULTS.ADMIN_TOKEN;
  const library = new SpeechLibrary();
  const script: CallStep[] = values.say
    ? [
        { kind: "waitForReply" },
        ...values.say
          .split(",")
          .flatMap((name): CallStep[] => [
            { kind: "say", utterance: library.utterance(name.trim()) },
            { kind: "waitForReply" },
          ]),
      ]
    : defaultScript(library, { bargeIn: !values["no-barge-in"] });

  console.log(`calling ${edgeUrl}/voice …`);
  const result: CallResult = await placeCall({
    edgeBaseUrl: edgeUrl,
    authToken,
    script,
    tailMs: 300,
  });
  if (result.twimlKind !== "stream") {
    console.log(`the edge did not connect a stream; it answered:\n${result.twiml}`);
    process.exit(1);
  }
  const record = await fetchCallRecord(edgeUrl, adminToken, result.identity.callSid);
  console.log(waterfall(result, record));
  const wavPath = values.wav ?? `call-${result.identity.callSid}.wav`;
  writeFileSync(wavPath, wavFromPcm16(mulawToPcm16(result.heard), 8000));
  console.log(`what the caller heard: ${wavPath} (${(result.heard.length / 8000).toFixed(1)} s)`);
  if (result.invalidFrames.length > 0) {
    console.log(`frames Twilio would refuse: ${result.invalidFrames.length} (${result.invalidFrames[0]})`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(`the call failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
