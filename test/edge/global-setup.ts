/**
 * globalSetup of the vitest "edge" project (runs in Node before the workerd tests): starts two fake
 * bridges (real HTTP + WebSocket servers) and computes reference values with the `twilio` package, then
 * `provide`s them. vitest.config.ts injects `bindings` into the Worker; tests `inject("edge")`.
 */
import { createServer } from "node:net";
import twilio from "twilio";
import type { TestProject } from "vitest/node";
import {
  type EdgeTestContext,
  type SignatureVector,
  STREAM_TOKEN_PLACEHOLDER,
  type TwimlVector,
} from "../../edge/test-support/provided.ts";
import { type FakeBridge, startFakeBridge } from "./fake-bridge.ts";

const AUTH_TOKEN = "test-twilio-auth-token-0001";
const BRIDGE_SECRET = "test-bridge-secret-0123456789abcdef-0001";
const PUBLIC_BASE_URL = "https://edge.test";
const REGION = "test";

/** A port that refuses connections: bound, then closed. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

function toTwilioParams(pairs: [string, string][]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else out[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}

function vector(
  name: string,
  signedUrl: string,
  checkUrl: string,
  params: [string, string][],
  options: { authToken?: string; edgeDiffers?: boolean; expectValid: boolean },
): SignatureVector {
  const authToken = options.authToken ?? AUTH_TOKEN;
  const signature = twilio.getExpectedTwilioSignature(authToken, signedUrl, toTwilioParams(params));
  const twilioValid = options.edgeDiffers
    ? null
    : twilio.validateRequest(authToken, signature, checkUrl, toTwilioParams(params));
  return {
    name,
    authToken,
    signedUrl,
    checkUrl,
    params,
    signature,
    twilioValid,
    expectValid: options.expectValid,
  };
}

const CALL_PARAMS: [string, string][] = [
  ["AccountSid", `AC${"a".repeat(32)}`],
  ["ApiVersion", "2010-04-01"],
  ["CallSid", `CA${"b".repeat(32)}`],
  ["CallStatus", "ringing"],
  ["Caller", "+14155550100"],
  ["Direction", "inbound"],
  ["From", "+14155550100"],
  ["FromCity", "SAN FRANCISCO"],
  ["To", "+18005550199"],
];

function signatureVectors(): SignatureVector[] {
  const media = `wss://edge.test/media/CA${"c".repeat(32)}`;
  return [
    vector(
      "twilio docs example (token 12345)",
      "https://mycompany.com/myapp.php?foo=1&bar=2",
      "https://mycompany.com/myapp.php?foo=1&bar=2",
      [
        ["CallSid", "CA1234567890ABCDE"],
        ["Caller", "+12349013030"],
        ["Digits", "1234"],
        ["From", "+12349013030"],
        ["To", "+18005551212"],
      ],
      { authToken: "12345", expectValid: true },
    ),
    vector("voice webhook", "https://edge.test/voice", "https://edge.test/voice", CALL_PARAMS, {
      expectValid: true,
    }),
    vector(
      "signed with :443, checked without",
      "https://edge.test:443/voice",
      "https://edge.test/voice",
      CALL_PARAMS,
      {
        expectValid: true,
      },
    ),
    vector(
      "signed without port, checked with :443",
      "https://edge.test/voice",
      "https://edge.test:443/voice",
      CALL_PARAMS,
      {
        expectValid: true,
      },
    ),
    vector(
      "local http with port",
      "http://localhost:8787/voice",
      "http://localhost:8787/voice",
      CALL_PARAMS,
      {
        expectValid: true,
      },
    ),
    vector("other port", "https://edge.test:8443/voice", "https://edge.test/voice", CALL_PARAMS, {
      expectValid: false,
    }),
    vector("trailing slash signed", "https://edge.test/voice/", "https://edge.test/voice/", CALL_PARAMS, {
      expectValid: true,
    }),
    vector("trailing slash dropped", "https://edge.test/voice/", "https://edge.test/voice", CALL_PARAMS, {
      expectValid: false,
    }),
    vector("http signed, https checked", "http://edge.test/voice", "https://edge.test/voice", CALL_PARAMS, {
      expectValid: false,
    }),
    vector(
      "query string",
      "https://edge.test/voice?lang=en&x=a%20b",
      "https://edge.test/voice?lang=en&x=a%20b",
      CALL_PARAMS,
      {
        expectValid: true,
      },
    ),
    vector(
      "query changed",
      "https://edge.test/voice?lang=en",
      "https://edge.test/voice?lang=fr",
      CALL_PARAMS,
      {
        expectValid: false,
      },
    ),
    vector(
      "special characters and repeated names",
      "https://edge.test/voice",
      "https://edge.test/voice",
      [
        ["SpeechResult", "Héllo & goodbye = 1+1 ünïcode 🎉"],
        ["Tag", "b"],
        ["Tag", "a"],
        ["Empty", ""],
      ],
      { expectValid: true },
    ),
    vector(
      "status callback",
      "https://edge.test/status",
      "https://edge.test/status",
      [
        ...CALL_PARAMS.filter(([name]) => name !== "CallStatus"),
        ["CallStatus", "completed"],
        ["CallDuration", "42"],
      ],
      { expectValid: true },
    ),
    vector("media upgrade (wss, no params)", media, media, [], { expectValid: true }),
    // twilio's addPort() gives every non-https scheme :80, so it cannot check wss with :443; the edge can.
    vector("media upgrade signed with :443", media.replace("edge.test", "edge.test:443"), media, [], {
      edgeDiffers: true,
      expectValid: true,
    }),
    vector("media upgrade over https instead of wss", media.replace("wss:", "https:"), media, [], {
      expectValid: false,
    }),
    vector("other auth token", "https://edge.test/voice", "https://edge.test/voice", CALL_PARAMS, {
      authToken: "another-token-entirely-0000",
      expectValid: true,
    }),
  ];
}

function twimlVectors(): TwimlVector[] {
  const cases: Omit<TwimlVector, "twiml">[] = [
    {
      name: "stream with token",
      kind: "stream",
      streamUrl: `wss://edge.test/media/CA${"d".repeat(32)}`,
      statusCallbackUrl: "https://edge.test/stream-status",
      parameters: [{ name: "token", value: "v1.stream.CAxx.1700000000000.abc_-DEF" }],
      sayText: "",
    },
    {
      name: "escaping in attributes",
      kind: "stream",
      streamUrl: "ws://localhost:8787/media/CA1",
      statusCallbackUrl: "http://localhost:8787/stream-status",
      parameters: [
        { name: "a&b", value: `x<y>z"q'r\ts\nt\ru` },
        { name: "second", value: "2" },
      ],
      sayText: "",
    },
    { name: "apology", kind: "apology", streamUrl: "", statusCallbackUrl: "", parameters: [], sayText: "" },
    {
      name: "apology with escaping",
      kind: "apology",
      streamUrl: "",
      statusCallbackUrl: "",
      parameters: [],
      sayText: `Sorry & <goodbye> "x" 'y'\r`,
    },
  ];
  return cases.map((c) => {
    const response = new twilio.twiml.VoiceResponse();
    if (c.kind === "stream") {
      const stream = response.connect().stream({ url: c.streamUrl, statusCallback: c.statusCallbackUrl });
      for (const parameter of c.parameters) stream.parameter(parameter);
    } else {
      response.say(c.sayText === "" ? APOLOGY_TEXT : c.sayText);
      response.hangup();
    }
    return { ...c, twiml: response.toString() };
  });
}

/** What VoiceResponse renders for /voice of this call, with STREAM_TOKEN_PLACEHOLDER for the token. */
function voiceTwiml(callSid: string): string {
  const response = new twilio.twiml.VoiceResponse();
  response
    .connect()
    .stream({ url: `wss://edge.test/media/${callSid}`, statusCallback: `${PUBLIC_BASE_URL}/stream-status` })
    .parameter({ name: "token", value: STREAM_TOKEN_PLACEHOLDER });
  return response.toString();
}

/** Must equal edge/twiml.ts APOLOGY_TEXT (the test checks the default apology against it). */
const APOLOGY_TEXT = "Sorry, we cannot take your call right now. Please try again later. Goodbye.";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bridges: FakeBridge[] = await Promise.all([
    startFakeBridge({ id: "bridge-a", region: REGION, secret: BRIDGE_SECRET }),
    startFakeBridge({ id: "bridge-b", region: REGION, secret: BRIDGE_SECRET }),
  ]);
  const dead = { id: "bridge-dead", url: `http://127.0.0.1:${await deadPort()}`, region: REGION };
  const elsewhere = { id: "bridge-elsewhere", url: "http://127.0.0.1:9", region: "elsewhere" };
  const voiceCallSid = `CA${"e".repeat(32)}`;
  const voiceParams: [string, string][] = CALL_PARAMS.map(([name, value]) =>
    name === "CallSid" ? [name, voiceCallSid] : [name, value],
  );
  const context: EdgeTestContext = {
    bindings: {
      PUBLIC_BASE_URL,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      ADMIN_TOKEN: "test-admin-token-0000000001",
      BRIDGE_SECRET,
      BRIDGES: JSON.stringify([
        ...bridges.map(({ id, url, region }) => ({ id, url, region })),
        dead,
        elsewhere,
      ]),
      BRIDGE_REGION: REGION,
      BRIDGE_HEALTH_CACHE_MS: "0",
      BRIDGE_TIMEOUT_MS: "500",
      LOG_LEVEL: "error",
    },
    bridges: bridges.map(({ id, url, region }) => ({ id, url, region })),
    deadBridgeId: dead.id,
    signatureVectors: signatureVectors(),
    twimlVectors: twimlVectors(),
    voiceRequest: {
      url: `${PUBLIC_BASE_URL}/voice`,
      params: voiceParams,
      signature: twilio.getExpectedTwilioSignature(
        AUTH_TOKEN,
        `${PUBLIC_BASE_URL}/voice`,
        toTwilioParams(voiceParams),
      ),
      twiml: voiceTwiml(voiceCallSid),
    },
  };
  project.provide("edge", context);
  return async () => {
    await Promise.all(bridges.map((bridge) => bridge.close()));
  };
}
