/**
 * The README's Deploy section stays true to the code: its variable table names every variable the edge
 * and the bridge read, and the commands and files it tells an operator to use exist.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES } from "../../bridge/config.ts";

const path = (relative: string) => fileURLToPath(new URL(`../../${relative}`, import.meta.url));
const readme = readFileSync(path("README.md"), "utf8");
const deploy = readme.slice(readme.indexOf("\n## Deploy\n"));
const table = deploy.slice(deploy.indexOf("\n### Environment variables\n"));
/** The backticked names in the first column of the table. */
const tableNames = table
  .split("\n")
  .filter((line) => line.startsWith("| ") && !line.startsWith("| Variable") && !line.startsWith("| ---"))
  .flatMap((line) =>
    [...(line.split("|")[1] ?? "").matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]),
  );

/** The variable names of wrangler.toml's top-level [vars] (every variable the edge reads). */
function edgeVarNames(): string[] {
  const toml = readFileSync(path("wrangler.toml"), "utf8");
  const block = toml.slice(toml.indexOf("\n[vars]\n") + 1).split(/\n\[/)[0] ?? "";
  return [...block.matchAll(/^([A-Z][A-Z0-9_]*) = /gm)].map((match) => match[1] ?? "");
}

describe("README, Deploy", () => {
  it("has the section and one variable table", () => {
    expect(deploy.startsWith("\n## Deploy\n")).toBe(true);
    expect(tableNames.length).toBeGreaterThan(40);
    expect(new Set(tableNames).size).toBe(tableNames.length);
  });

  it("lists every variable of the edge and of the bridge", () => {
    const names = [...edgeVarNames(), ...CONFIG_VARIABLES.map((variable) => variable.name)];
    expect(names.length).toBeGreaterThan(30);
    for (const name of names)
      expect(tableNames, `README variable table (Deploy) lacks ${name}`).toContain(name);
  });

  it("uses npm scripts and files that exist", () => {
    const scripts: Record<string, string> = JSON.parse(readFileSync(path("package.json"), "utf8")).scripts;
    for (const [, script] of deploy.matchAll(/npm run ([a-z:]+)/g))
      expect(Object.keys(scripts), script).toContain(script);
    for (const [, file] of deploy.matchAll(/((?:bridge|edge)\/[\w./-]+\.(?:json|ts)|bridge\/Dockerfile)/g)) {
      if (!file?.includes("*")) expect(existsSync(path(file ?? "")), file).toBe(true);
    }
  });
});
