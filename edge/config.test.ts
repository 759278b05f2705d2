import { describe, expect, it } from "vitest";
import { AppError } from "../shared/errors.ts";
import { type EdgeVars, parseEdgeConfig } from "./config.ts";

const VALID: EdgeVars = {
  PUBLIC_BASE_URL: "https://voice.example.com/",
  TWILIO_AUTH_TOKEN: "0123456789abcdef0123456789abcdef",
  ADMIN_TOKEN: "admin-token-0123456789",
  BRIDGE_SECRET: "bridge-secret-0123456789abcdef-0123456789",
  BRIDGES: JSON.stringify([
    { id: "use1-a", url: "https://use1-a.bridge.example.com/", region: "us-east-1" },
    { id: "euw1-a", url: "https://euw1-a.bridge.example.com", region: "eu-west-1" },
  ]),
  BRIDGE_REGION: "us-east-1",
};

function problemsOf(vars: EdgeVars): string {
  try {
    parseEdgeConfig(vars);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).message;
  }
  throw new Error("expected the configuration to be refused");
}

describe("parseEdgeConfig", () => {
  it("parses a valid configuration with defaults", () => {
    const config = parseEdgeConfig(VALID);
    expect(config.publicBaseUrl).toBe("https://voice.example.com");
    expect(config.publicWsBaseUrl).toBe("wss://voice.example.com");
    expect(config.bridges).toEqual([
      { id: "use1-a", url: "https://use1-a.bridge.example.com", region: "us-east-1" },
    ]);
    expect(config.streamTokenTtlMs).toBe(120_000);
    expect(config.bridgeTokenTtlMs).toBe(60_000);
    expect(config.retentionDays).toBe(30);
    expect(config.logLevel).toBe("info");
  });

  it("uses ws:// for a local http base URL", () => {
    const config = parseEdgeConfig({ ...VALID, PUBLIC_BASE_URL: "http://localhost:8787" });
    expect(config.publicWsBaseUrl).toBe("ws://localhost:8787");
  });

  it("lists every problem at once", () => {
    const message = problemsOf({
      PUBLIC_BASE_URL: "ftp://x.example.com/path",
      ADMIN_TOKEN: "short",
      BRIDGES: "[{",
      RETENTION_DAYS: "0",
      LOG_LEVEL: "loud",
    });
    for (const expected of [
      "PUBLIC_BASE_URL must be http(s)",
      "PUBLIC_BASE_URL must be an origin only",
      "TWILIO_AUTH_TOKEN is missing",
      "ADMIN_TOKEN must be at least 16 characters",
      "BRIDGE_SECRET is missing",
      "BRIDGE_REGION is missing",
      "BRIDGES is not valid JSON",
      "RETENTION_DAYS must be an integer from 1 to 3650",
      "LOG_LEVEL must be one of",
    ]) {
      expect(message).toContain(expected);
    }
  });

  it("names the bad field of a bridge and refuses duplicates and an empty region", () => {
    expect(
      problemsOf({ ...VALID, BRIDGES: JSON.stringify([{ id: "a", url: "ws://x", region: "r" }]) }),
    ).toContain("BRIDGES.0.url");
    const duplicate = JSON.stringify([
      { id: "a", url: "http://x:1", region: "us-east-1" },
      { id: "a", url: "http://y:1", region: "us-east-1" },
    ]);
    expect(problemsOf({ ...VALID, BRIDGES: duplicate })).toContain('duplicate id "a"');
    expect(problemsOf({ ...VALID, BRIDGE_REGION: "ap-south-1" })).toContain(
      'no bridge in BRIDGE_REGION "ap-south-1"',
    );
  });

  it("refuses dev-only secrets on a public https URL, allows them locally", () => {
    const dev = {
      ...VALID,
      ADMIN_TOKEN: "dev-only-admin-token",
      BRIDGE_SECRET: "dev-only-bridge-secret-0123456789abcdef",
    };
    const message = problemsOf(dev);
    expect(message).toContain("ADMIN_TOKEN is a dev-only value");
    expect(message).toContain("BRIDGE_SECRET is a dev-only value");
    expect(() => parseEdgeConfig({ ...dev, PUBLIC_BASE_URL: "http://localhost:8787" })).not.toThrow();
  });
});
