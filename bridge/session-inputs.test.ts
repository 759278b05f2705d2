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

  it("replays the audio since a moment, before what is held, within the recent window", () => {
    const inputs = new SessionInputs(1000);
    for (let atMs = 0; atMs <= 2000; atMs += 20) inputs.recordAudio(audio(320), atMs);
    inputs.hold({ kind: "text", text: "later" });
    expect(inputs.replaySince(1900)).toBe(6 * 320);
    const held = inputs.takeHeld();
    expect(held).toHaveLength(7);
    expect(held.at(-1)).toEqual({ kind: "text", text: "later" });
    // Audio older than the window is gone.
    expect(inputs.replaySince(0)).toBe(51 * 320);
  });
});
