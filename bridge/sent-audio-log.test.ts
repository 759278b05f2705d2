import { describe, expect, it } from "vitest";
import { SentAudioLog } from "./sent-audio-log.ts";

describe("SentAudioLog", () => {
  it("finds when the frame holding the end of speech was sent", () => {
    const log = new SentAudioLog();
    for (let frame = 0; frame < 100; frame++) {
      log.received(frame * 20);
      log.sent(frame * 20 + 0.5);
    }
    expect(log.sentAtFor(1010)).toBe(1020.5);
    expect(log.sentAtFor(1000)).toBe(1000.5);
    expect(log.sentAtFor(5000)).toBeNull();
  });

  it("gives gathered frames the time their audioInput left", () => {
    const log = new SentAudioLog();
    log.received(0);
    log.received(20);
    expect(log.sentAtFor(10)).toBeNull();
    log.sent(21);
    expect(log.sentAtFor(10)).toBe(21);
  });

  it("forgets frames older than its ring", () => {
    const log = new SentAudioLog();
    for (let frame = 0; frame < 1000; frame++) {
      log.received(frame * 20);
      log.sent(frame * 20 + 1);
    }
    expect(log.sentAtFor(19_975)).toBe(19_981);
    expect(log.sentAtFor(19_990)).toBeNull();
    expect(log.sentAtFor(100)).toBe((1000 - 256) * 20 + 1);
  });
});
