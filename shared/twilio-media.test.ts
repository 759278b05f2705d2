import { describe, expect, it } from "vitest";
import { AppError } from "./errors.ts";
import {
  buildClear,
  buildConnected,
  buildDtmf,
  buildInboundMedia,
  buildMark,
  buildMarkEcho,
  buildMedia,
  buildStart,
  buildStop,
  MAX_TWILIO_FRAME_CHARS,
  parseTwilioInbound,
  parseTwilioOutbound,
} from "./twilio-media.ts";

const streamSid = "MZ18ad3ab5a668481ce02b83e7395059f0";
const callSid = "CA0123456789abcdef0123456789abcdef";
const accountSid = "AC0123456789abcdef0123456789abcdef";

// Frames as Twilio documents them (strings for sequenceNumber, chunk and timestamp).
const realStart = JSON.stringify({
  event: "start",
  sequenceNumber: "1",
  start: {
    accountSid,
    streamSid,
    callSid,
    tracks: ["inbound"],
    mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
    customParameters: { token: "abc" },
  },
  streamSid,
});
const realMedia = JSON.stringify({
  event: "media",
  sequenceNumber: "3",
  media: { track: "inbound", chunk: "1", timestamp: "5", payload: "no+JhoaJjpz/////" },
  streamSid,
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return "no error";
}

describe("parseTwilioInbound", () => {
  it("parses every message Twilio sends", () => {
    expect(parseTwilioInbound(buildConnected())).toEqual({
      event: "connected",
      protocol: "Call",
      version: "1.0.0",
    });
    const start = parseTwilioInbound(realStart);
    expect(start.event === "start" && start.start.customParameters).toEqual({ token: "abc" });
    const media = parseTwilioInbound(realMedia);
    expect(media.event === "media" && media.media.payload).toBe("no+JhoaJjpz/////");
    const dtmf = parseTwilioInbound(buildDtmf({ sequenceNumber: 5, streamSid, digit: "#" }));
    expect(dtmf.event === "dtmf" && dtmf.dtmf.digit).toBe("#");
    const mark = parseTwilioInbound(buildMarkEcho({ sequenceNumber: 6, streamSid, name: "g1:t1:f5" }));
    expect(mark.event === "mark" && mark.mark.name).toBe("g1:t1:f5");
    const stop = parseTwilioInbound(buildStop({ sequenceNumber: 7, streamSid, accountSid, callSid }));
    expect(stop.event === "stop" && stop.stop.callSid).toBe(callSid);
  });

  it("round-trips the builders used by the phone simulator", () => {
    const start = buildStart({
      sequenceNumber: 1,
      streamSid,
      accountSid,
      callSid,
      customParameters: { a: "b" },
    });
    expect(parseTwilioInbound(start)).toEqual(JSON.parse(start));
    const media = buildInboundMedia({
      sequenceNumber: 2,
      streamSid,
      chunk: 1,
      timestampMs: 20.7,
      payloadBase64: "AAAA",
    });
    expect(JSON.parse(media).media.timestamp).toBe("20");
    expect(parseTwilioInbound(media)).toEqual(JSON.parse(media));
  });

  it("defaults missing customParameters to an empty record", () => {
    const frame = JSON.parse(realStart);
    delete frame.start.customParameters;
    const start = parseTwilioInbound(JSON.stringify(frame));
    expect(start.event === "start" && start.start.customParameters).toEqual({});
  });

  it.each([
    ["bad JSON", "{not json", /^bad_json: twilio frame: not valid JSON/],
    ["unknown event", '{"event":"hello"}', /^bad_frame: twilio frame event: /],
    ["no event", '{"streamSid":"x"}', /^bad_frame: twilio frame event: /],
    [
      "a number for sequenceNumber",
      realMedia.replace('"sequenceNumber":"3"', '"sequenceNumber":3'),
      /sequenceNumber/,
    ],
    ["a number for timestamp", realMedia.replace('"timestamp":"5"', '"timestamp":5'), /media\.timestamp/],
    ["missing payload", realMedia.replace(',"payload":"no+JhoaJjpz/////"', ""), /media\.payload/],
    [
      "invalid base64",
      realMedia.replace("no+JhoaJjpz/////", "no+Jho*aJjpz"),
      /media\.payload: expected base64/,
    ],
    ["a bad stream SID", realMedia.replace(streamSid, "MZ123"), /streamSid/],
    ["a wrong encoding", realStart.replace("audio/x-mulaw", "audio/l16"), /start\.mediaFormat\.encoding/],
    ["a wrong sample rate", realStart.replace("8000", "16000"), /start\.mediaFormat\.sampleRate/],
    ["two DTMF digits", buildDtmf({ sequenceNumber: 1, streamSid, digit: "12" }), /dtmf\.digit/],
    ["an array", "[]", /^bad_frame/],
    ["null", "null", /^bad_frame/],
  ])("rejects %s with the field and reason", (_name, frame, expected) => {
    expect(codeOf(() => parseTwilioInbound(frame))).toMatch(expected);
  });

  it("rejects oversize frames before parsing them", () => {
    const huge = `{"event":"media","pad":"${"x".repeat(MAX_TWILIO_FRAME_CHARS)}"}`;
    expect(codeOf(() => parseTwilioInbound(huge))).toMatch(/^frame_too_large/);
  });

  it("rejects an oversize media payload", () => {
    const frame = buildInboundMedia({
      sequenceNumber: 2,
      streamSid,
      chunk: 1,
      timestampMs: 0,
      payloadBase64: "A".repeat(20_000),
    });
    expect(codeOf(() => parseTwilioInbound(frame))).toMatch(/media\.payload: payload too large/);
  });
});

describe("outbound messages", () => {
  it("builds exactly the shapes Twilio accepts", () => {
    expect(JSON.parse(buildMedia(streamSid, "AAAA"))).toEqual({
      event: "media",
      streamSid,
      media: { payload: "AAAA" },
    });
    expect(JSON.parse(buildMark(streamSid, "g1"))).toEqual({
      event: "mark",
      streamSid,
      mark: { name: "g1" },
    });
    expect(JSON.parse(buildClear(streamSid))).toEqual({ event: "clear", streamSid });
  });

  it("parses what the bridge sends towards Twilio and refuses anything else", () => {
    expect(parseTwilioOutbound(buildClear(streamSid))).toEqual({ event: "clear", streamSid });
    expect(codeOf(() => parseTwilioOutbound(buildMedia(streamSid, "A*A")))).toMatch(/media\.payload/);
    expect(codeOf(() => parseTwilioOutbound(realStart))).toMatch(/^bad_frame: outbound frame event/);
    expect(codeOf(() => parseTwilioOutbound(buildMark(streamSid, "")))).toMatch(/mark\.name/);
  });
});
