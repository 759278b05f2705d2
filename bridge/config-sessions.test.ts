import { describe, expect, it } from "vitest";
import { AppError } from "../shared/errors.ts";
import { CONFIG_VARIABLES, parseBridgeConfig } from "./config.ts";
import { SESSION_VARIABLES } from "./config-sessions.ts";

const minimal = { BRIDGE_SECRET: "0123456789abcdef0123", AWS_REGION: "us-east-1" };

describe("session policy configuration", () => {
  it("defaults to Nova Sonic's 8-minute limit, rolling over at 7 minutes", () => {
    expect(parseBridgeConfig(minimal).sessions).toEqual({
      limitMs: 480_000,
      rolloverAfterMs: 420_000,
      forceSwitchMarginMs: 20_000,
      maxFailures: 3,
      failureWindowMs: 60_000,
      startAttempts: 5,
      retryBaseMs: 250,
      retryMaxMs: 4000,
    });
  });

  it("reads every variable it documents", () => {
    const config = parseBridgeConfig({
      ...minimal,
      SESSION_LIMIT_MS: "4000",
      SESSION_ROLLOVER_AFTER_MS: "2500",
      SESSION_FORCE_SWITCH_MARGIN_MS: "1000",
      MODEL_MAX_FAILURES: "2",
      MODEL_FAILURE_WINDOW_MS: "30000",
      MODEL_START_ATTEMPTS: "3",
      MODEL_RETRY_BASE_MS: "50",
      MODEL_RETRY_MAX_MS: "400",
    });
    expect(config.sessions).toEqual({
      limitMs: 4000,
      rolloverAfterMs: 2500,
      forceSwitchMarginMs: 1000,
      maxFailures: 2,
      failureWindowMs: 30_000,
      startAttempts: 3,
      retryBaseMs: 50,
      retryMaxMs: 400,
    });
    const documented = CONFIG_VARIABLES.map((variable) => variable.name);
    for (const variable of SESSION_VARIABLES) expect(documented).toContain(variable.name);
  });

  it("refuses a rollover that leaves no room before the limit, and an inverted backoff", () => {
    let message = "";
    try {
      parseBridgeConfig({
        ...minimal,
        SESSION_LIMIT_MS: "4000",
        SESSION_ROLLOVER_AFTER_MS: "3500",
        SESSION_FORCE_SWITCH_MARGIN_MS: "1000",
        MODEL_RETRY_BASE_MS: "500",
        MODEL_RETRY_MAX_MS: "100",
      });
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      message = String(error instanceof Error ? error.message : error);
    }
    expect(message).toContain("SESSION_ROLLOVER_AFTER_MS");
    expect(message).toContain("MODEL_RETRY_MAX_MS");
    expect(message).toMatch(/has 2 problem/);
  });
});
