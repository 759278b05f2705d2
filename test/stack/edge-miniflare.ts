/**
 * The bundled edge Worker (edge-bundle.ts) in workerd through Miniflare, with no dev proxy in front: by
 * default the client talks to the Worker's own socket (`unsafeDirectSockets`), as Cloudflare's front end
 * talks to a deployed Worker. Used by the local stack's workerd edge (edge-workerd.ts) and
 * `npm run bench:edge`.
 */
import { join } from "node:path";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import type { EdgeBundle } from "./edge-bundle.ts";

/**
 * `direct`: the Worker's own socket; `entry`: through Miniflare's entry Worker first (one more hop
 * inside workerd, as in `wrangler dev`'s user-Worker process).
 */
export type EdgeRoute = "direct" | "entry";

export type WorkerLogLevel = "debug" | "info" | "log" | "warn" | "error";

export interface EdgeMiniflareOptions {
  bundle: EdgeBundle;
  host: string;
  /** 0: any free port. */
  port: number;
  route: EdgeRoute;
  /** Over the bundle's vars (wrangler.toml's), like `wrangler dev --var KEY:VALUE`. */
  vars: Record<string, string>;
  /** Durable Object storage kept here, laid out as `wrangler dev --persist-to` does; unset: in memory. */
  persistTo?: string;
  /** The Worker's console output, one message at a time (default: dropped). */
  onWorkerLog?: (level: WorkerLogLevel, message: string) => void;
}

export interface EdgeMiniflare {
  mf: Miniflare;
  /** Where the edge answers, e.g. http://127.0.0.1:8787. */
  origin: string;
}

function workerLogLevel(level: string): WorkerLogLevel {
  return level === "debug" || level === "info" || level === "warn" || level === "error" ? level : "log";
}

export async function startEdgeMiniflare(options: EdgeMiniflareOptions): Promise<EdgeMiniflare> {
  const { bundle, onWorkerLog } = options;
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      name: bundle.name,
      modules: true,
      scriptPath: bundle.scriptPath,
      modulesRoot: bundle.modulesRoot,
      compatibilityDate: bundle.compatibilityDate,
      compatibilityFlags: bundle.compatibilityFlags,
      durableObjects: bundle.durableObjects,
      bindings: { ...bundle.vars, ...options.vars },
      host: options.host,
      // Placeholder `request.cf` values instead of fetching real ones from Cloudflare (offline).
      cf: false,
      ...(options.route === "entry"
        ? { port: options.port }
        : { unsafeDirectSockets: [{ host: options.host, port: options.port }] }),
      ...(options.persistTo ? { resourcePersistencePath: join(options.persistTo, "v3") } : {}),
      log: new Log(LogLevel.WARN),
      handleStructuredLogs: ({ level, message }) => onWorkerLog?.(workerLogLevel(level), message),
    }),
  );
  try {
    const entryUrl = await mf.ready;
    const url = options.route === "entry" ? entryUrl : await mf.unsafeGetDirectURL();
    return { mf, origin: url.origin };
  } catch (error) {
    await mf.dispose();
    throw error;
  }
}
