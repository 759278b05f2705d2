import { describe, expect, it } from "vitest";
import { isSentInContext } from "./dockerfile.ts";

describe("isSentInContext (.dockerignore rules)", () => {
  const patterns = [
    "*",
    "!package.json",
    "!bridge/",
    "**/*.test.ts",
    "bridge/simulator/",
    "bridge/deploy/*.json",
  ];

  it("sends only what is re-included, minus the later exclusions", () => {
    expect(isSentInContext("package.json", patterns)).toBe(true);
    expect(isSentInContext("bridge/main.ts", patterns)).toBe(true);
    expect(isSentInContext("bridge/deploy/bundle.ts", patterns)).toBe(true);
    expect(isSentInContext("README.md", patterns)).toBe(false);
    expect(isSentInContext("test/phone/main.ts", patterns)).toBe(false);
    expect(isSentInContext("bridge/config.test.ts", patterns)).toBe(false);
    expect(isSentInContext("bridge/simulator/assets/ack-8k.wav", patterns)).toBe(false);
    expect(isSentInContext("bridge/deploy/iam-policy.json", patterns)).toBe(false);
  });

  it("sends everything without patterns", () => {
    expect(isSentInContext("anything/at/all.ts", [])).toBe(true);
  });
});
