import { describe, expect, it } from "vitest";
import { fitHistory, MAX_HISTORY_MESSAGE_BYTES, MAX_HISTORY_MESSAGES } from "./model-session.ts";

describe("fitHistory", () => {
  it("keeps the most recent messages, starting with the caller", () => {
    const history = Array.from({ length: 55 }, (_, i) => ({
      role: i % 2 === 0 ? ("USER" as const) : ("ASSISTANT" as const),
      text: `message ${i}`,
    }));
    const fitted = fitHistory(history);
    expect(fitted.length).toBeLessThanOrEqual(MAX_HISTORY_MESSAGES);
    expect(fitted[0]?.role).toBe("USER");
    expect(fitted.at(-1)?.text).toBe("message 54");
    expect(fitted[0]?.text).toBe("message 16");
  });

  it("trims long messages to their end and drops empty ones", () => {
    const fitted = fitHistory([
      { role: "ASSISTANT", text: "a greeting before the caller spoke" },
      { role: "USER", text: `start ${"é".repeat(2000)} end` },
      { role: "ASSISTANT", text: "   " },
    ]);
    expect(fitted).toHaveLength(1);
    expect(new TextEncoder().encode(fitted[0]!.text).length).toBeLessThanOrEqual(MAX_HISTORY_MESSAGE_BYTES);
    expect(fitted[0]!.text.startsWith("…")).toBe(true);
    expect(fitted[0]!.text.endsWith(" end")).toBe(true);
  });
});
