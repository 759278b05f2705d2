import { describe, expect, it } from "vitest";
import { buildClear, buildMark, buildMedia, parseTwilioInbound } from "../../../shared/twilio-media.ts";
import { MediaStreamClient, newStreamSid } from "./media-stream-client.ts";

const identity = {
  callSid: `CAbe11${"a".repeat(28)}`,
  accountSid: `AC${"0".repeat(32)}`,
  streamSid: newStreamSid(),
  streamToken: "v1.stream.CAbe11.123.sig",
};

describe("MediaStreamClient", () => {
  it("sends what Twilio sends, in Twilio's shapes (checked by the edge's own parser)", () => {
    const client = new MediaStreamClient(identity);
    expect(parseTwilioInbound(client.connected())).toEqual({
      event: "connected",
      protocol: "Call",
      version: "1.0.0",
    });
    const start = parseTwilioInbound(client.start());
    expect(start).toMatchObject({
      event: "start",
      sequenceNumber: "1",
      streamSid: identity.streamSid,
      start: {
        callSid: identity.callSid,
        accountSid: identity.accountSid,
        tracks: ["inbound"],
        customParameters: { token: identity.streamToken },
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
    });
    const frame = new Uint8Array(160).fill(0x7f);
    const first = parseTwilioInbound(client.media(frame));
    const second = parseTwilioInbound(client.media(frame));
    expect(first).toMatchObject({
      sequenceNumber: "2",
      media: { track: "inbound", chunk: "1", timestamp: "0" },
    });
    expect(second).toMatchObject({ sequenceNumber: "3", media: { chunk: "2", timestamp: "20" } });
    expect(first.event === "media" && atob(first.media.payload)).toBe("\x7f".repeat(160));
    expect(parseTwilioInbound(client.markEcho("g0:t1:f5"))).toMatchObject({
      event: "mark",
      sequenceNumber: "4",
      mark: { name: "g0:t1:f5" },
    });
    expect(parseTwilioInbound(client.stop())).toMatchObject({
      event: "stop",
      sequenceNumber: "5",
      stop: { callSid: identity.callSid, accountSid: identity.accountSid },
    });
    expect(client.chunks).toBe(2);
  });

  it("turns the edge's media, mark and clear into player commands", () => {
    const client = new MediaStreamClient(identity);
    expect(client.receive(buildMedia(identity.streamSid, btoa("\x01\x02\x03")))).toEqual({
      kind: "media",
      mulaw: Uint8Array.from([1, 2, 3]),
    });
    expect(client.receive(buildMark(identity.streamSid, "m1"))).toEqual({ kind: "mark", name: "m1" });
    expect(client.receive(buildClear(identity.streamSid))).toEqual({ kind: "clear" });
  });

  it("refuses what Twilio would refuse: bad JSON, unknown events, another stream's frames", () => {
    const client = new MediaStreamClient(identity);
    expect(client.receive("{nope").kind).toBe("invalid");
    expect(client.receive(JSON.stringify({ event: "play", streamSid: identity.streamSid })).kind).toBe(
      "invalid",
    );
    const other = client.receive(buildClear(newStreamSid()));
    expect(other.kind === "invalid" && other.reason).toMatch(/another stream/);
  });

  it("makes stream SIDs Twilio's way: MZ and 32 hex digits, different every time", () => {
    const sids = new Set(Array.from({ length: 20 }, newStreamSid));
    expect(sids.size).toBe(20);
    for (const sid of sids) expect(sid).toMatch(/^MZ[0-9a-f]{32}$/);
  });
});
