import { describe, expect, it } from "vitest";
import { buildBridgeControl } from "../shared/bridge-protocol.ts";
import {
  buildClear,
  buildInboundMedia,
  buildMark,
  buildMedia,
  buildStart,
  MAX_TWILIO_FRAME_CHARS,
} from "../shared/twilio-media.ts";
import { checkBridgeFrame, checkTwilioFrame } from "./frame-checks.ts";

const streamSid = `MZ${"a".repeat(32)}`;

describe("checkTwilioFrame", () => {
  it("passes media on by shape alone and leaves other events to the parser", () => {
    const media = buildInboundMedia({
      sequenceNumber: 2,
      streamSid,
      chunk: 1,
      timestampMs: 20,
      payloadBase64: "//8=",
    });
    expect(checkTwilioFrame(media)).toBe("media");
    const start = buildStart({
      sequenceNumber: 1,
      streamSid,
      accountSid: `AC${"b".repeat(32)}`,
      callSid: `CA${"c".repeat(32)}`,
      customParameters: {},
    });
    expect(checkTwilioFrame(start)).toBe("event");
    expect(checkTwilioFrame("garbage")).toBe("event");
  });

  it("drops truncated media and oversized frames", () => {
    expect(checkTwilioFrame('{"event":"media","sequenceNumber":"2","med')).toBe("bad_json");
    expect(checkTwilioFrame(`{"event":"media","x":"${"a".repeat(MAX_TWILIO_FRAME_CHARS)}"}`)).toBe(
      "frame_too_large",
    );
  });
});

describe("checkBridgeFrame", () => {
  it("tells control frames from Twilio-bound ones", () => {
    expect(checkBridgeFrame(buildBridgeControl({ bridge: "hangup", reason: "agent" }))).toBe("control");
    expect(checkBridgeFrame(buildMedia(streamSid, "AAAA"))).toBe("twilio");
    expect(checkBridgeFrame(buildMark(streamSid, "g1-0"))).toBe("twilio");
    expect(checkBridgeFrame(buildClear(streamSid))).toBe("twilio");
    // Valid media with another key order takes the validating path.
    expect(checkBridgeFrame(JSON.stringify({ media: { payload: "AAAA" }, event: "media", streamSid }))).toBe(
      "twilio",
    );
  });

  it("names why a Twilio-bound frame is dropped", () => {
    expect(checkBridgeFrame("not json")).toBe("bad_json");
    expect(checkBridgeFrame('{"event":"media","streamSid":"MZ')).toBe("bad_json");
    expect(checkBridgeFrame(JSON.stringify({ event: "clear", streamSid: "MZ1" }))).toBe("bad_frame");
    expect(checkBridgeFrame(JSON.stringify({ event: "dance", streamSid }))).toBe("bad_frame");
    expect(checkBridgeFrame(buildMedia(streamSid, "A".repeat(MAX_TWILIO_FRAME_CHARS)))).toBe(
      "frame_too_large",
    );
  });
});
