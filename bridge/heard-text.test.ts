import { describe, expect, it } from "vitest";
import { heardText } from "./heard-text.ts";

describe("heardText", () => {
  const segments = [
    { text: "One two three four.", startByte: 0 },
    { text: "Five six.", startByte: 800 },
  ];
  it("apportions words of the segment being played", () => {
    expect(heardText(segments, 1600, 0)).toBe("");
    expect(heardText(segments, 1600, 400)).toBe("One two");
    expect(heardText(segments, 1600, 800)).toBe("One two three four.");
    expect(heardText(segments, 1600, 1300)).toBe("One two three four. Five");
    expect(heardText(segments, 1600, 1600)).toBe("One two three four. Five six.");
  });
});
