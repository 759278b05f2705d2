import { describe, expect, it } from "vitest";
import { pcmBytesOfBase64, SessionInputs } from "./session-inputs.ts";

const audio = (bytes: number) => Buffer.alloc(bytes, 1).toString("base64");

describe("SessionInputs", () => {
  it("counts the PCM bytes of base64 audio, padding included", () => {
    for (const bytes of [318, 319, 320]) expect(pcmBytesOfBase64(audio(bytes))).toBe(bytes);
  });

  it("hands held inputs over in order, a failed start's first", () => {
    const inputs = new SessionInputs();
    inputs.hold({ kind: "audio", base64: "b" });
    inputs.hold({ kind: "text", text: "digit" });
    inputs.holdFirst([{ kind: "audio", base64: "a" }]);
    expect(inputs.takeHeld()).toEqual([
      { kind: "audio", base64: "a" },
      { kind: "audio", base64: "b" },
      { kind: "text", text: "digit" },
    ]);
    expect(inputs.takeHeld()).toEqual([]);
  });

  it("replays unanswered speech from just before its onset, before what is held", () => {
    const inputs = new SessionInputs(1000);
    for (let atMs = 0; atMs <= 2000; atMs += 20) inputs.recordAudio(audio(320), atMs, 1700);
    inputs.hold({ kind: "text", text: "later" });
    // From 1500 ms (200 ms of pre-roll) to 2000 ms: 26 frames.
    expect(inputs.replaySince(1700)).toBe(26 * 320);
    const held = inputs.takeHeld();
    expect(held).toHaveLength(27);
    expect(held.at(-1)).toEqual({ kind: "text", text: "later" });
  });

  it("keeps only what a replay may need: the pre-roll when nobody speaks, the window at most", () => {
    const quiet = new SessionInputs(1000);
    for (let atMs = 0; atMs <= 2000; atMs += 20) quiet.recordAudio(audio(320), atMs, null);
    expect(quiet.replaySince(0)).toBe(11 * 320);
    const talkative = new SessionInputs(1000);
    for (let atMs = 0; atMs <= 2000; atMs += 20) talkative.recordAudio(audio(320), atMs, 100);
    expect(talkative.replaySince(100)).toBe(51 * 320);
  });

  it("still replays exactly the unanswered speech after an hour of frames has been compacted away", () => {
    const inputs = new SessionInputs(20_000);
    const onsetMs = 3_600_000 - 1000;
    for (let atMs = 0; atMs <= 3_600_000; atMs += 20) {
      inputs.recordAudio(audio(atMs >= onsetMs - 200 ? 320 : 160), atMs, atMs >= onsetMs ? onsetMs : null);
    }
    // 200 ms of pre-roll and the second since the onset, every frame once: 61 frames of 320 bytes.
    expect(inputs.replaySince(onsetMs)).toBe(61 * 320);
  });
});
