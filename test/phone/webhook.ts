/**
 * The HTTP side of a Twilio call, as Twilio does it: signed form posts to the voice webhook and the
 * status callbacks, and reading the TwiML that comes back. Signatures come from the `twilio` package
 * itself (the reference the edge is tested against).
 */
import twilio from "twilio";

export interface StreamInstruction {
  kind: "stream";
  /** The Stream URL exactly as written in the TwiML (Twilio signs the upgrade over it). */
  url: string;
  statusCallback: string | null;
  parameters: Record<string, string>;
}
export interface OtherInstruction {
  kind: "other";
  twiml: string;
}
export type VoiceInstruction = StreamInstruction | OtherInstruction;

function unescapeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of tag.matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*"([^"]*)"/g)) {
    out[match[1]!] = unescapeXml(match[2]!);
  }
  return out;
}

/** Reads `<Connect><Stream url>` and its `<Parameter>`s; anything else is returned as is. */
export function readTwiml(twiml: string): VoiceInstruction {
  const stream = /<Connect[^>]*>\s*<Stream\b([^>]*?)(\/>|>([\s\S]*?)<\/Stream>)/.exec(twiml);
  if (!stream) return { kind: "other", twiml };
  const streamAttributes = attributes(stream[1] ?? "");
  const url = streamAttributes.url;
  if (!url) throw new Error("TwiML <Stream> has no url");
  if (url.includes("?")) throw new Error(`Twilio refuses a Stream url with a query string: ${url}`);
  const parameters: Record<string, string> = {};
  for (const parameter of (stream[3] ?? "").matchAll(/<Parameter\b([^>]*?)\/?>/g)) {
    const { name, value } = attributes(parameter[1] ?? "");
    if (name === undefined || value === undefined) throw new Error("TwiML <Parameter> needs name and value");
    if (name.length + value.length > 500) throw new Error(`TwiML <Parameter> ${name} is over 500 characters`);
    parameters[name] = value;
  }
  return { kind: "stream", url, statusCallback: streamAttributes.statusCallback ?? null, parameters };
}

/** Posts a form the way Twilio does, with X-Twilio-Signature over the full URL and the sorted params. */
export async function postSigned(
  url: string,
  authToken: string,
  params: Record<string, string>,
): Promise<Response> {
  const signature = twilio.getExpectedTwilioSignature(authToken, url, params);
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
      "user-agent": "TwilioProxy/1.1",
    },
    body: new URLSearchParams(params).toString(),
  });
}

/** The signature Twilio puts on the WebSocket upgrade: over the URL as written, with no params. */
export function upgradeSignature(authToken: string, streamUrl: string): string {
  return twilio.getExpectedTwilioSignature(authToken, streamUrl, {});
}

export interface CallIdentity {
  accountSid: string;
  callSid: string;
  streamSid: string;
  from: string;
  to: string;
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

export function newCallIdentity(from = "+14155550100", to = "+18005550199"): CallIdentity {
  return {
    accountSid: `AC${randomHex(16)}`,
    callSid: `CA${randomHex(16)}`,
    streamSid: `MZ${randomHex(16)}`,
    from,
    to,
  };
}

/** The parameters Twilio posts to the voice webhook when a call comes in. */
export function voiceParams(call: CallIdentity): Record<string, string> {
  return {
    AccountSid: call.accountSid,
    ApiVersion: "2010-04-01",
    CallSid: call.callSid,
    CallStatus: "ringing",
    Called: call.to,
    Caller: call.from,
    Direction: "inbound",
    From: call.from,
    To: call.to,
  };
}

export function statusParams(call: CallIdentity, status: string, durationS?: number): Record<string, string> {
  return {
    ...voiceParams(call),
    CallStatus: status,
    ...(durationS === undefined ? {} : { CallDuration: String(Math.round(durationS)) }),
  };
}
