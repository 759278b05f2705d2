/**
 * The edge Worker as `wrangler deploy` ships it: the bundle `wrangler deploy --dry-run --outdir` writes
 * (what `npm run build:edge` builds), and the runtime shape wrangler derives from wrangler.toml for one
 * environment — compatibility date and flags, vars, and the Durable Object bindings with SQLite storage
 * where the migrations say so (wrangler's own derivation, the one `wrangler dev` feeds Miniflare).
 * Shared by the local stack's workerd edge (edge-workerd.ts) and `npm run bench:edge`.
 *
 * Loading wrangler costs about 200 MB and 0.7 s, so the shape is read by this file run as a short-lived
 * child process, never in the process that hosts workerd:
 *
 *   npx node test/stack/edge-bundle.ts [--env NAME]   prints the shape as one JSON line
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as v from "valibot";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WRANGLER_CLI = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const CONFIG_PATH = join(ROOT, "wrangler.toml");

const durableObjectSchema = v.strictObject({ className: v.string(), useSQLite: v.optional(v.boolean()) });

const edgeShapeSchema = v.strictObject({
  /** The Worker's name (Miniflare keeps Durable Object state under it, as `wrangler dev` does). */
  name: v.string(),
  compatibilityDate: v.string(),
  compatibilityFlags: v.array(v.string()),
  /** wrangler.toml's vars of the environment, as `wrangler dev` binds them. */
  vars: v.record(v.string(), v.string()),
  durableObjects: v.record(v.string(), durableObjectSchema),
});

export type EdgeShape = v.InferOutput<typeof edgeShapeSchema>;

export interface EdgeBundle extends EdgeShape {
  /** The bundled Worker (an ES module) and the folder module names are relative to. */
  scriptPath: string;
  modulesRoot: string;
}

/** The shape printed by this file's script role; throws naming the field that does not fit. */
export function parseEdgeShape(json: string): EdgeShape {
  const result = v.safeParse(edgeShapeSchema, JSON.parse(json));
  if (result.success) return result.output;
  const issue = result.issues[0];
  throw new Error(`edge shape: ${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`);
}

/** Runs a command to its end; rejects with its stderr if it fails. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${args.join(" ")} failed (${code ?? signal}):\n${stderr.slice(-4000)}`)),
    );
  });
}

/**
 * Bundles the edge into `outdir` and reads its shape for `env` ("" = wrangler.toml's top level, what
 * `wrangler dev` runs), both at once. Offline: no login, no telemetry.
 */
export async function bundleEdge(outdir: string, env = ""): Promise<EdgeBundle> {
  const processEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: join(outdir, "xdg") };
  const [, shapeJson] = await Promise.all([
    run([WRANGLER_CLI, "deploy", "--dry-run", `--env=${env}`, "--outdir", outdir], processEnv),
    run([fileURLToPath(import.meta.url), "--env", env], processEnv),
  ]);
  // wrangler may print a notice first (e.g. where secrets came from): the shape is the last line.
  const lastLine = shapeJson.trim().split("\n").at(-1) ?? "";
  return { ...parseEdgeShape(lastLine), scriptPath: join(outdir, "index.js"), modulesRoot: outdir };
}

async function printShape(env: string): Promise<void> {
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: CONFIG_PATH, env }, { hideWarnings: true });
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config, env);
  const durableObjects: Record<string, v.InferOutput<typeof durableObjectSchema>> = {};
  for (const [binding, designator] of Object.entries(workerOptions.durableObjects ?? {})) {
    if (typeof designator === "string") durableObjects[binding] = { className: designator };
    else durableObjects[binding] = { className: designator.className, useSQLite: designator.useSQLite };
  }
  const shape = {
    name: config.name ?? "worker",
    compatibilityDate: config.compatibility_date ?? "",
    compatibilityFlags: config.compatibility_flags,
    vars: Object.fromEntries(
      Object.entries(workerOptions.bindings ?? {}).map(([key, value]) => {
        if (typeof value !== "string") throw new Error(`wrangler.toml var ${key} is not a string`);
        return [key, value];
      }),
    ),
    durableObjects,
  } satisfies EdgeShape;
  process.stdout.write(`${JSON.stringify(shape)}\n`);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { env: { type: "string", default: "" } } });
  await printShape(values.env ?? "");
}
