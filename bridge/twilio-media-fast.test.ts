import { describe, expect, it } from "vitest";
import { buildDtmf, buildInboundMedia, parseTwilioInbound } from "../shared/twilio-media.ts";
import { parseTwilioMediaFast } from "./twilio-media-fast.ts";

const streamSid = `MZ${"0123456789abcdef".repeat(2)}`;
const good = buildInboundMedia({
  sequenceNumber: 42,
  streamSid,
  chunk: 41,
  timestampMs: 820,
  payloadBase64: Buffer.alloc(160, 0x7f).toString("base64"),
});

describe("parseTwilioMediaFast", () => {
  it("reads a media frame exactly as the full parser does", () => {
    expect(parseTwilioMediaFast(good)).toEqual(parseTwilioInbound(good));
  });

  it("leaves every frame the schema would refuse (or that is not media) to the full parser", () => {
    const variants = [
      good.replace(streamSid, "MZ123"),
      good.replace('"sequenceNumber":"42"', '"sequenceNumber":42'),
      good.replace('"track":"inbound"', '"track":"sideways"'),
      good.replace('"chunk":"41"', '"chunk":"x"'),
      good.replace('"timestamp":"820"', '"timestamp":"-1"'),
      good.replace(/"payload":"[^"]*"/, '"payload":"not base64!"'),
      good.replace(/"payload":"[^"]*"/, `"payload":"${"A".repeat(11_000)}"`),
      good.replace(/"media":\{.*\}/, '"media":null}'),
      `${good.slice(0, -1)}`,
      buildDtmf({ sequenceNumber: 1, streamSid, digit: "1" }),
    ];
    for (const frame of variants) {
      expect(parseTwilioMediaFast(frame)).toBeNull();
      let fullParserAccepts = true;
      try {
        fullParserAccepts = parseTwilioInbound(frame).event === "media";
      } catch {
        fullParserAccepts = false;
      }
      expect(fullParserAccepts).toBe(false);
    }
  });
});
