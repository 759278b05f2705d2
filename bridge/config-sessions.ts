/**
 * The configuration of long calls and model failures (issue 6; bridge/session-continuity.ts): when a call
 * moves to a fresh Nova Sonic session before the session limit, and how it retries and gives up when the
 * model fails. Parsed with the rest of the configuration (bridge/config.ts); every problem is collected.
 */
import { type ConfigVariable, type Env, integer, type Problems } from "./config-values.ts";

export interface SessionPolicyConfig {
  /** The model's session time limit (Nova Sonic: 8 minutes, then ModelTimeoutException). */
  limitMs: number;
  /** Session age at which the next session is opened; the call switches to it at the next quiet moment. */
  rolloverAfterMs: number;
  /**
   * This long before the limit the switch no longer waits for silence (the caller's speech in progress is
   * replayed to the new session, a reply already received keeps playing); at half of it, it happens even
   * while a reply is still being generated.
   */
  forceSwitchMarginMs: number;
  /** Mid-call model failures within `failureWindowMs` that end the call (with a goodbye). */
  maxFailures: number;
  failureWindowMs: number;
  /** Attempts to start a session (throttling, unavailability) before the call gives up. */
  startAttempts: number;
  /** Jittered exponential backoff between start attempts: first delay and cap. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export const SESSION_VARIABLES: readonly ConfigVariable[] = [
  { name: "SESSION_LIMIT_MS", meaning: "the model's session time limit", defaultValue: "480000" },
  {
    name: "SESSION_ROLLOVER_AFTER_MS",
    meaning: "session age at which the next session opens; the call switches at the next quiet moment",
    defaultValue: "420000",
  },
  {
    name: "SESSION_FORCE_SWITCH_MARGIN_MS",
    meaning: "before the limit, switch even while the caller speaks or a reply plays (half: mid-reply)",
    defaultValue: "20000",
  },
  {
    name: "MODEL_MAX_FAILURES",
    meaning: "mid-call model failures within the window that end the call with a goodbye",
    defaultValue: "3",
  },
  { name: "MODEL_FAILURE_WINDOW_MS", meaning: "window of MODEL_MAX_FAILURES", defaultValue: "60000" },
  {
    name: "MODEL_START_ATTEMPTS",
    meaning: "attempts to start a session (throttled, unavailable) before the call gives up",
    defaultValue: "5",
  },
  { name: "MODEL_RETRY_BASE_MS", meaning: "first retry delay (exponential, jittered)", defaultValue: "250" },
  { name: "MODEL_RETRY_MAX_MS", meaning: "longest retry delay", defaultValue: "4000" },
];

const DAY_MS = 24 * 3600_000;

export function parseSessionPolicy(env: Env, problems: Problems): SessionPolicyConfig {
  const policy: SessionPolicyConfig = {
    limitMs: integer(env, "SESSION_LIMIT_MS", 480_000, 2000, DAY_MS, problems),
    rolloverAfterMs: integer(env, "SESSION_ROLLOVER_AFTER_MS", 420_000, 500, DAY_MS, problems),
    forceSwitchMarginMs: integer(env, "SESSION_FORCE_SWITCH_MARGIN_MS", 20_000, 200, DAY_MS, problems),
    maxFailures: integer(env, "MODEL_MAX_FAILURES", 3, 1, 100, problems),
    failureWindowMs: integer(env, "MODEL_FAILURE_WINDOW_MS", 60_000, 1000, DAY_MS, problems),
    startAttempts: integer(env, "MODEL_START_ATTEMPTS", 5, 1, 50, problems),
    retryBaseMs: integer(env, "MODEL_RETRY_BASE_MS", 250, 10, 60_000, problems),
    retryMaxMs: integer(env, "MODEL_RETRY_MAX_MS", 4000, 10, 300_000, problems),
  };
  if (policy.rolloverAfterMs + policy.forceSwitchMarginMs >= policy.limitMs) {
    problems.add(
      "SESSION_ROLLOVER_AFTER_MS",
      `plus SESSION_FORCE_SWITCH_MARGIN_MS must stay below SESSION_LIMIT_MS (${policy.limitMs})`,
    );
  }
  if (policy.retryMaxMs < policy.retryBaseMs) {
    problems.add("MODEL_RETRY_MAX_MS", "must be at least MODEL_RETRY_BASE_MS");
  }
  return policy;
}
