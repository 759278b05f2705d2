/**
 * The edge straight in workerd, shaped as in production (Twilio → Cloudflare → the Worker → its Durable
 * Objects): the bundle `wrangler deploy --dry-run` makes, wrangler.toml's compatibility settings, vars and
 * SQLite Durable Objects, served on the Worker's own socket — no `wrangler dev` proxy in front, no reload
 * on source changes. The local stack runs it as its own child process (EDGE_RUNTIME=workerd); its
 * workerd is its child, so the two form the edge's process tree.
 *
 *   npx node test/stack/edge-workerd.ts --ip 127.0.0.1 --port 8787 --persist-to DIR --bundle-dir DIR \
 *     [--env NAME] [--var KEY:VALUE …]
 *
 * Options as `wrangler dev`'s (`--env ""`: wrangler.toml's top level). Prints one JSON line once the edge
 * answers — {"ready":true,"url":…} — then the Worker's console output as `wrangler dev` does (log, info
 * and debug on stdout, warn and error on stderr). Disposes workerd and exits on SIGTERM, SIGINT or when
 * the parent's IPC channel closes.
 */
import { parseArgs } from "node:util";
import { bundleEdge } from "./edge-bundle.ts";
import { type EdgeMiniflare, startEdgeMiniflare } from "./edge-miniflare.ts";

/** `KEY:VALUE` pairs (the value may hold colons) into a record; throws naming the malformed one. */
export function parseVarArgs(pairs: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const colon = pair.indexOf(":");
    if (colon < 1) throw new Error(`--var must be KEY:VALUE (got "${pair}")`);
    vars[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  return vars;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ip: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8787" },
      "persist-to": { type: "string" },
      "bundle-dir": { type: "string" },
      env: { type: "string", default: "" },
      var: { type: "string", multiple: true, default: [] },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: bad port "${values.port}"`);
  const bundleDir = values["bundle-dir"];
  if (!bundleDir) throw new Error("--bundle-dir is required (where the bundle is written)");
  const vars = parseVarArgs(values.var ?? []);

  let edge: EdgeMiniflare | null = null;
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await edge?.mf.dispose();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
  process.once("disconnect", () => void stop());

  const bundle = await bundleEdge(bundleDir, values.env);
  if (stopping) return;
  edge = await startEdgeMiniflare({
    bundle,
    host: values.ip ?? "127.0.0.1",
    port,
    route: "direct",
    vars,
    ...(values["persist-to"] ? { persistTo: values["persist-to"] } : {}),
    onWorkerLog: (level, message) => {
      const stream = level === "warn" || level === "error" ? process.stderr : process.stdout;
      stream.write(message.endsWith("\n") ? message : `${message}\n`);
    },
  });
  if (stopping) {
    await edge.mf.dispose();
    return;
  }
  process.stdout.write(`${JSON.stringify({ ready: true, url: edge.origin, worker: bundle.name })}\n`);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(
      `the workerd edge failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  });
}
