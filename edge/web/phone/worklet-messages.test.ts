import { describe, expect, it } from "vitest";
import {
  parseCaptureCommand,
  parseCaptureEvent,
  parsePlaybackCommand,
  parsePlaybackEvent,
} from "./worklet-messages.ts";

describe("worklet messages", () => {
  it("parses each message a side receives", () => {
    const mulaw = new Uint8Array(160);
    expect(parseCaptureEvent({ type: "frame", mulaw })).toEqual({ type: "frame", mulaw });
    expect(parseCaptureCommand({ type: "mute", muted: true })).toEqual({ type: "mute", muted: true });
    expect(parsePlaybackCommand({ type: "mark", name: "m" })).toEqual({ type: "mark", name: "m" });
    expect(parsePlaybackCommand({ type: "clear" })).toEqual({ type: "clear" });
    expect(parsePlaybackEvent({ type: "marks", names: ["a", "b"] })).toEqual({
      type: "marks",
      names: ["a", "b"],
    });
    expect(parsePlaybackEvent({ type: "stats", playedMs: 20, bufferedMs: 0 })).toEqual({
      type: "stats",
      playedMs: 20,
      bufferedMs: 0,
    });
  });

  it("rejects malformed messages with a coded error naming the field", () => {
    expect(() => parseCaptureEvent({ type: "frame", mulaw: [1, 2] })).toThrow(/mulaw must be a Uint8Array/);
    expect(() => parsePlaybackCommand({ type: "mark" })).toThrow(/name must be a string/);
    expect(() => parsePlaybackEvent({ type: "marks", names: [1] })).toThrow(/names must be strings/);
    expect(() => parsePlaybackEvent({ type: "stats", playedMs: Number.NaN, bufferedMs: 0 })).toThrow(
      /playedMs/,
    );
    expect(() => parsePlaybackCommand(null)).toThrow(/not a message/);
    expect(() => parseCaptureCommand({ type: "explode" })).toThrow(/unknown type/);
  });
});
