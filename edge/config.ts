/**
 * The edge's configuration: read once from the Worker's bindings (vars and secrets), checked as a whole,
 * and rejected with the full list of problems rather than the first one.
 *
 * Dev-only defaults live in wrangler.toml [vars]; their secret values start with `dev-only-` and are
 * refused when PUBLIC_BASE_URL is https (i.e. anywhere Twilio can reach). Production sets the secrets
 * with `wrangler secret put`.
 */
import * as v from "valibot";
import { AppError } from "../shared/errors.ts";
import type { LogLevel } from "../shared/log.ts";

export interface BridgeEndpoint {
  id: string;
  /** Base URL, http(s), no trailing slash: `${url}/healthz`, `${url}/v1/calls/…`. */
  url: string;
  region: string;
}

export interface EdgeConfig {
  /** Origin Twilio uses to reach us (`https://voice.example.com`), no trailing slash. */
  publicBaseUrl: string;
  /** The same origin as a WebSocket URL (wss:// for https, ws:// for http). */
  publicWsBaseUrl: string;
  twilioAuthToken: string;
  adminToken: string;
  /** Signs bridge tokens (purpose "bridge") and stream tokens (purpose "stream"). */
  bridgeSecret: string;
  /** The bridges of `bridgeRegion` (the others are not used by this deployment). */
  bridges: readonly BridgeEndpoint[];
  bridgeRegion: string;
  streamTokenTtlMs: number;
  bridgeTokenTtlMs: number;
  /** How long a health answer from a bridge is trusted. */
  bridgeHealthCacheMs: number;
  /** Timeout of one health check or one connection attempt to a bridge. */
  bridgeTimeoutMs: number;
  retentionDays: number;
  logLevel: LogLevel;
}

const DEV_ONLY_PREFIX = "dev-only-";
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

const bridgesSchema = v.pipe(
  v.array(
    v.object({
      id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, "id must be 1-64 of A-Z a-z 0-9 _ . -")),
      url: v.pipe(v.string(), v.regex(/^https?:\/\/[^/?#\s]+\/?$/, "url must be http(s)://host[:port]")),
      region: v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,32}$/, "region must be 1-32 of a-z 0-9 -")),
    }),
  ),
  v.minLength(1, "at least one bridge is needed"),
);

/** The Worker bindings this module reads (vars in wrangler.toml, secrets from `wrangler secret put`). */
export interface EdgeVars {
  PUBLIC_BASE_URL?: unknown;
  TWILIO_AUTH_TOKEN?: unknown;
  ADMIN_TOKEN?: unknown;
  BRIDGE_SECRET?: unknown;
  BRIDGES?: unknown;
  BRIDGE_REGION?: unknown;
  STREAM_TOKEN_TTL_SECONDS?: unknown;
  BRIDGE_TOKEN_TTL_SECONDS?: unknown;
  BRIDGE_HEALTH_CACHE_MS?: unknown;
  BRIDGE_TIMEOUT_MS?: unknown;
  RETENTION_DAYS?: unknown;
  LOG_LEVEL?: unknown;
}
type VarName = keyof EdgeVars;

/** Parses the bindings; throws AppError("bad_config") listing every problem found. */
export function parseEdgeConfig(vars: EdgeVars): EdgeConfig {
  const problems: string[] = [];
  const text = (name: VarName, minChars = 1): string => {
    const value = vars[name];
    if (typeof value !== "string" || value.trim() === "") {
      problems.push(`${name} is missing`);
      return "";
    }
    if (value.length < minChars) problems.push(`${name} must be at least ${minChars} characters`);
    return value;
  };
  const integer = (name: VarName, fallback: number, min: number, max: number): number => {
    const value = vars[name];
    if (value === undefined || value === "") return fallback;
    const parsed = typeof value === "number" ? value : Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
      return fallback;
    }
    return parsed;
  };

  const publicBaseUrl = parsePublicBaseUrl(text("PUBLIC_BASE_URL"), problems);
  const twilioAuthToken = text("TWILIO_AUTH_TOKEN", 16);
  const adminToken = text("ADMIN_TOKEN", 16);
  const bridgeSecret = text("BRIDGE_SECRET", 32);
  const bridgeRegion = text("BRIDGE_REGION");
  const allBridges = parseBridges(vars.BRIDGES, problems);
  const bridges = allBridges.filter((bridge) => bridge.region === bridgeRegion);
  if (allBridges.length > 0 && bridgeRegion !== "" && bridges.length === 0) {
    problems.push(`BRIDGES has no bridge in BRIDGE_REGION "${bridgeRegion}"`);
  }
  const logLevelText = vars.LOG_LEVEL ?? "info";
  const logLevel = LOG_LEVELS.find((level) => level === logLevelText);
  if (!logLevel) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);

  if (publicBaseUrl.startsWith("https://")) {
    for (const [name, value] of [
      ["TWILIO_AUTH_TOKEN", twilioAuthToken],
      ["ADMIN_TOKEN", adminToken],
      ["BRIDGE_SECRET", bridgeSecret],
    ] as const) {
      if (value.startsWith(DEV_ONLY_PREFIX))
        problems.push(`${name} is a dev-only value; set it with \`wrangler secret put ${name}\``);
    }
  }

  const config: EdgeConfig = {
    publicBaseUrl,
    publicWsBaseUrl: publicBaseUrl.replace(/^http/, "ws"),
    twilioAuthToken,
    adminToken,
    bridgeSecret,
    bridges,
    bridgeRegion,
    streamTokenTtlMs: integer("STREAM_TOKEN_TTL_SECONDS", 120, 10, 3600) * 1000,
    bridgeTokenTtlMs: integer("BRIDGE_TOKEN_TTL_SECONDS", 60, 10, 3600) * 1000,
    bridgeHealthCacheMs: integer("BRIDGE_HEALTH_CACHE_MS", 2000, 0, 60_000),
    bridgeTimeoutMs: integer("BRIDGE_TIMEOUT_MS", 1000, 50, 10_000),
    retentionDays: integer("RETENTION_DAYS", 30, 1, 3650),
    logLevel: logLevel ?? "info",
  };
  if (problems.length > 0) {
    throw new AppError("bad_config", `edge configuration is invalid:\n - ${problems.join("\n - ")}`);
  }
  return config;
}

function parsePublicBaseUrl(value: string, problems: string[]): string {
  if (value === "") return "";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push("PUBLIC_BASE_URL is not a URL");
    return "";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") problems.push("PUBLIC_BASE_URL must be http(s)");
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "" || url.username !== "") {
    problems.push("PUBLIC_BASE_URL must be an origin only (scheme://host[:port]), without path or query");
  }
  // Keep the text as configured (not url.origin): Twilio signs the URL exactly as it was configured.
  return value.replace(/\/+$/, "");
}

function parseBridges(value: unknown, problems: string[]): BridgeEndpoint[] {
  if (typeof value !== "string" || value.trim() === "") {
    problems.push('BRIDGES is missing (JSON: [{"id":"…","url":"https://…","region":"…"}])');
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    problems.push("BRIDGES is not valid JSON");
    return [];
  }
  const result = v.safeParse(bridgesSchema, json);
  if (!result.success) {
    for (const issue of result.issues) {
      const path = v.getDotPath(issue);
      problems.push(`BRIDGES${path ? `.${path}` : ""}: ${issue.message}`);
    }
    return [];
  }
  const ids = new Set<string>();
  for (const bridge of result.output) {
    if (ids.has(bridge.id)) problems.push(`BRIDGES: duplicate id "${bridge.id}"`);
    ids.add(bridge.id);
  }
  return result.output.map((bridge) => ({ ...bridge, url: bridge.url.replace(/\/$/, "") }));
}
