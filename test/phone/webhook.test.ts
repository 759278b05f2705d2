import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { readTwiml } from "./webhook.ts";

describe("readTwiml", () => {
  it("reads the Stream url, status callback and parameters as the twilio package writes them", () => {
    const response = new twilio.twiml.VoiceResponse();
    const stream = response.connect().stream({
      url: "wss://edge.example.com/media/CA1",
      statusCallback: "https://edge.example.com/stream-status",
    });
    stream.parameter({ name: "token", value: "v1.stream.CA1.9.a&b" });
    expect(readTwiml(response.toString())).toEqual({
      kind: "stream",
      url: "wss://edge.example.com/media/CA1",
      statusCallback: "https://edge.example.com/stream-status",
      parameters: { token: "v1.stream.CA1.9.a&b" },
    });
  });

  it("returns other TwiML untouched and refuses what Twilio refuses", () => {
    const response = new twilio.twiml.VoiceResponse();
    response.say("Sorry");
    response.hangup();
    expect(readTwiml(response.toString()).kind).toBe("other");
    expect(() =>
      readTwiml('<Response><Connect><Stream url="wss://x/media?a=1"/></Connect></Response>'),
    ).toThrow(/query string/);
  });
});
