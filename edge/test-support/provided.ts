/**
 * What the edge tests' globalSetup (test/edge/global-setup.ts, Node side) provides to the tests running
 * inside workerd: the Worker's bindings, the fake bridges, and reference values computed with the
 * `twilio` package (signatures, rendered TwiML).
 */
/** Stands for the stream token (unknown until /voice answers) in the reference TwiML. */
export const STREAM_TOKEN_PLACEHOLDER = "STREAM-TOKEN-PLACEHOLDER";

export interface FakeBridgeInfo {
  id: string;
  url: string;
  region: string;
}

export interface SignatureVector {
  name: string;
  authToken: string;
  /** The URL the signature was computed over, and the URL the edge checks it against. */
  signedUrl: string;
  checkUrl: string;
  params: [string, string][];
  /** getExpectedTwilioSignature(authToken, signedUrl, params). */
  signature: string;
  /** validateRequest(authToken, signature, checkUrl, params), or null where the edge knowingly differs. */
  twilioValid: boolean | null;
  /** What the edge must answer. */
  expectValid: boolean;
}

export interface TwimlVector {
  name: string;
  kind: "stream" | "apology";
  streamUrl: string;
  statusCallbackUrl: string;
  parameters: { name: string; value: string }[];
  sayText: string;
  /** VoiceResponse(...).toString() */
  twiml: string;
}

export interface EdgeTestContext {
  bindings: Record<string, string>;
  bridges: FakeBridgeInfo[];
  /** A bridge of the region whose port refuses connections. */
  deadBridgeId: string;
  signatureVectors: SignatureVector[];
  twimlVectors: TwimlVector[];
  /** A /voice request signed by the twilio package, and the TwiML VoiceResponse renders for it. */
  voiceRequest: { url: string; params: [string, string][]; signature: string; twiml: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    edge: EdgeTestContext;
  }
}
