/**
 * wrangler.toml's deployed environments, as wrangler itself resolves them (its own config reader, the one
 * `wrangler deploy --env …` uses): each is its own Worker with the same Durable Object bindings and
 * migration history as the dev Worker, declares every non-secret variable the edge reads, requires the
 * three secrets instead of carrying values, and passes the edge's own configuration check once the
 * secrets are set. `npm run build:edge` (in `npm test`) builds the production bundle offline.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { type EdgeVars, parseEdgeConfig } from "../../edge/config.ts";

const CONFIG_PATH = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));
const SECRETS = ["TWILIO_AUTH_TOKEN", "ADMIN_TOKEN", "BRIDGE_SECRET"] as const;
const ENVIRONMENTS = ["staging", "production"] as const;

function read(env: string | undefined) {
  return unstable_readConfig({ config: CONFIG_PATH, ...(env ? { env } : {}) }, { hideWarnings: true });
}

const topLevel = read(undefined);
interface DurableObjectBinding {
  name: string;
  class_name: string;
  script_name?: string | undefined;
}
const bindings = (config: ReturnType<typeof read>): DurableObjectBinding[] =>
  config.durable_objects.bindings.map(({ name, class_name, script_name }: DurableObjectBinding) => ({
    name,
    class_name,
    script_name,
  }));

/** Secret values as `wrangler secret put` would provide them (not dev-only, long enough). */
const realSecrets = {
  TWILIO_AUTH_TOKEN: "a".repeat(32),
  ADMIN_TOKEN: "b".repeat(32),
  BRIDGE_SECRET: "c".repeat(48),
} satisfies Record<(typeof SECRETS)[number], string>;

describe("wrangler.toml, top level (wrangler dev and the edge tests)", () => {
  it("keeps the dev-only values in [vars] and requires no secrets", () => {
    expect(topLevel.secrets).toBeUndefined();
    for (const name of SECRETS) expect(String(topLevel.vars[name])).toMatch(/^dev-only-/);
    expect(() => parseEdgeConfig(topLevel.vars)).not.toThrow();
  });
});

describe.each(ENVIRONMENTS)("wrangler.toml [env.%s]", (envName) => {
  const config = read(envName);
  const vars: EdgeVars = config.vars;

  it("is its own Worker with the dev Worker's code, bindings and migrations", () => {
    expect(config.name).toBe(`nova-phone-edge-${envName}`);
    expect(config.main).toBe(topLevel.main);
    expect(config.compatibility_date).toBe(topLevel.compatibility_date);
    expect(config.compatibility_flags).toEqual(topLevel.compatibility_flags);
    expect(bindings(config)).toEqual(bindings(topLevel));
    expect(bindings(config).map(({ name }) => name)).toEqual([
      "CALL_SESSION",
      "BRIDGE_REGISTRY",
      "CALL_DIRECTORY",
    ]);
    expect(config.migrations).toEqual(topLevel.migrations);
  });

  it("requires the three secrets and carries no value for them", () => {
    expect(config.secrets?.required).toEqual([...SECRETS]);
    for (const name of SECRETS) expect(Object.keys(config.vars)).not.toContain(name);
  });

  it("declares every other variable the dev Worker has", () => {
    const expected = Object.keys(topLevel.vars).filter((name) => !SECRETS.some((secret) => secret === name));
    expect(Object.keys(config.vars).sort()).toEqual(expected.sort());
  });

  it("passes the edge's configuration check once the secrets are set, and only then", () => {
    const edge = parseEdgeConfig({ ...vars, ...realSecrets });
    expect(edge.publicBaseUrl).toMatch(/^https:\/\//);
    expect(edge.bridges.length).toBeGreaterThan(0);
    for (const bridge of edge.bridges) expect(bridge.url).toMatch(/^https:\/\//);
    expect(() => parseEdgeConfig(vars)).toThrow(/TWILIO_AUTH_TOKEN is missing/);
    const devSecrets = Object.fromEntries(SECRETS.map((name) => [name, topLevel.vars[name]]));
    expect(() => parseEdgeConfig({ ...vars, ...devSecrets })).toThrow(/dev-only value/);
  });
});
