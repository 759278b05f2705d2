/**
 * The TwiML the edge answers with: connect the call to our media WebSocket, or apologise and hang up.
 * Escaping follows XML 1.0 (and matches what the `twilio` package's VoiceResponse renders).
 * https://www.twilio.com/docs/voice/twiml/stream
 */

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

export function escapeXmlText(text: string): string {
  return text.replace(/[&<>\r]/g, (char) => {
    switch (char) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      default:
        return "&#xD;";
    }
  });
}

export function escapeXmlAttribute(text: string): string {
  return text.replace(/[&<"\t\n\r]/g, (char) => {
    switch (char) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case '"':
        return "&quot;";
      case "\t":
        return "&#x9;";
      case "\n":
        return "&#xA;";
      default:
        return "&#xD;";
    }
  });
}

export interface StreamParameter {
  name: string;
  value: string;
}

/** `<Connect><Stream>`: a bidirectional stream to `streamUrl` (no query string allowed by Twilio). */
export function renderConnectStream(args: {
  streamUrl: string;
  statusCallbackUrl: string;
  parameters: readonly StreamParameter[];
}): string {
  const parameters = args.parameters
    .map((p) => `<Parameter name="${escapeXmlAttribute(p.name)}" value="${escapeXmlAttribute(p.value)}"/>`)
    .join("");
  const stream =
    `<Stream url="${escapeXmlAttribute(args.streamUrl)}" statusCallback="${escapeXmlAttribute(args.statusCallbackUrl)}"` +
    (parameters === "" ? "/>" : `>${parameters}</Stream>`);
  return `${XML_DECLARATION}<Response><Connect>${stream}</Connect></Response>`;
}

export const APOLOGY_TEXT = "Sorry, we cannot take your call right now. Please try again later. Goodbye.";

/** Says `text` and hangs up: what Twilio gets whenever the call cannot be connected. */
export function renderApology(text: string = APOLOGY_TEXT): string {
  return `${XML_DECLARATION}<Response><Say>${escapeXmlText(text)}</Say><Hangup/></Response>`;
}
