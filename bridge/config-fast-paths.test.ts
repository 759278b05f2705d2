import { describe, expect, it } from "vitest";
import { DEFAULT_PROMPT_TEXTS, parseFastPathConfig } from "./config-fast-paths.ts";
import { type Env, Problems } from "./config-values.ts";

function parse(env: Env) {
  const problems = new Problems();
  const config = parseFastPathConfig(env, problems);
  return { config, problems: problems.list };
}

describe("fast-path configuration", () => {
  it("leaves the pool and the cached prompts off, transfers refused, and drains for 90 s by default", () => {
    const { config, problems } = parse({});
    expect(problems).toEqual([]);
    expect(config).toEqual({
      pool: { maxSize: 0, minSize: 0, maxAgeMs: 30_000 },
      prompts: { sources: [], cacheDir: null, render: true },
      transfer: { number: null, twilio: null, apiBaseUrl: null },
      holdAfterMs: 700,
      drainMs: 90_000,
    });
  });

  it("reads the pool, the prompts with their texts and files, and the transfer settings", () => {
    const { config, problems } = parse({
      POOL_MAX: "8",
      POOL_MIN: "2",
      POOL_MAX_AGE_MS: "20000",
      PROMPTS: "greeting, hold,greeting",
      PROMPT_GREETING_TEXT: "Hi, this is Acme.",
      PROMPT_HOLD_FILE: "/prompts/hold.wav",
      PROMPT_CACHE_DIR: "/var/cache/prompts",
      TRANSFER_NUMBER: "+15551234567",
      TWILIO_ACCOUNT_SID: `AC${"a".repeat(32)}`,
      TWILIO_AUTH_TOKEN: "token",
      TWILIO_API_BASE_URL: "http://127.0.0.1:9999",
      BRIDGE_DRAIN_MS: "0",
    });
    expect(problems).toEqual([]);
    expect(config.pool).toEqual({ maxSize: 8, minSize: 2, maxAgeMs: 20_000 });
    expect(config.prompts.sources).toEqual([
      { id: "greeting", text: "Hi, this is Acme.", file: null },
      { id: "hold", text: DEFAULT_PROMPT_TEXTS.hold, file: "/prompts/hold.wav" },
    ]);
    expect(config.prompts.cacheDir).toBe("/var/cache/prompts");
    expect(config.transfer).toEqual({
      number: "+15551234567",
      twilio: { accountSid: `AC${"a".repeat(32)}`, authToken: "token" },
      apiBaseUrl: "http://127.0.0.1:9999",
    });
    expect(config.drainMs).toBe(0);
    expect(parse({ PROMPTS: "all" }).config.prompts.sources.map((s) => s.id)).toEqual([
      "greeting",
      "hold",
      "transfer",
      "apology",
      "goodbye",
    ]);
  });

  it("names every problem", () => {
    const { problems } = parse({
      POOL_MAX: "1",
      POOL_MIN: "2",
      POOL_MAX_AGE_MS: "90000",
      PROMPTS: "greeting,music",
      PROMPT_RENDER: "off",
      TRANSFER_NUMBER: "555-1234",
      TWILIO_ACCOUNT_SID: "nope",
      TWILIO_API_BASE_URL: "api.twilio.com",
    });
    expect(problems).toEqual([
      "POOL_MIN: must not exceed POOL_MAX (1)",
      'POOL_MAX_AGE_MS: expected an integer from 1000 to 50000, got "90000"',
      'PROMPTS: unknown prompt "music" (known: greeting, hold, transfer, apology, goodbye)',
      "PROMPT_GREETING_FILE: required when PROMPT_RENDER is off",
      "TRANSFER_NUMBER: expected an E.164 number like +15551234567",
      "TWILIO_ACCOUNT_SID: expected an account SID (AC followed by 32 hex digits)",
      "TWILIO_AUTH_TOKEN: set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither",
      "TWILIO_API_BASE_URL: expected an origin like https://api.twilio.com",
    ]);
  });
});
