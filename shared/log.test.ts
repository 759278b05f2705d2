import { describe, expect, it } from "vitest";
import { Logger, redactPhoneNumbers } from "./log.ts";

function capture() {
  const lines: string[] = [];
  const logger = new Logger(
    { component: "test" },
    { level: "debug", sink: (line) => lines.push(line), now: () => 0 },
  );
  return { lines, logger };
}

describe("Logger", () => {
  it("writes one JSON object a line with the child context", () => {
    const { lines, logger } = capture();
    logger.child({ callSid: "CA123" }).info("started", { turn: 1 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      ts: "1970-01-01T00:00:00.000Z",
      level: "info",
      msg: "started",
      component: "test",
      callSid: "CA123",
      turn: 1,
    });
  });

  it("redacts phone numbers anywhere in string values and never writes secrets", () => {
    const { lines, logger } = capture();
    logger.info("call from +14155550123", {
      params: { From: "+1 (415) 555-0199", authToken: "hunter2" },
      bridgeSecret: "s3cr3t",
    });
    const line = lines[0] ?? "";
    expect(line).not.toContain("4155550123");
    expect(line).not.toContain("555-0199");
    expect(line).not.toContain("hunter2");
    expect(line).not.toContain("s3cr3t");
    expect(line).toContain("[phone …23]");
  });

  it("drops records below the level", () => {
    const lines: string[] = [];
    const logger = new Logger({}, { level: "warn", sink: (line) => lines.push(line) });
    logger.info("quiet");
    logger.warn("loud");
    expect(lines).toHaveLength(1);
  });

  it("leaves short digit runs such as sequence numbers alone", () => {
    expect(redactPhoneNumbers("sequence 12345")).toBe("sequence 12345");
  });
});

describe("redactPhoneNumbers", () => {
  it.each([
    ["+14155550123", "[phone …23]"],
    ["call 4155550123 now", "call [phone …23] now"],
    ["+1 (415) 555-0199", "[phone …99]"],
    ["415.555.0199", "[phone …99]"],
  ])("redacts %s", (input, expected) => {
    expect(redactPhoneNumbers(input)).toBe(expected);
  });

  it.each(["2026-11-24T06:26:00.000Z", "CA0123456789abcdef0123456789abcdef", "chunk 42"])(
    "keeps %s",
    (input) => {
      expect(redactPhoneNumbers(input)).toBe(input);
    },
  );
});
