/**
 * The simulator's own HTTP routes, for tests and benchmarks driving a separately started simulator
 * (HTTP/1.1 or HTTP/2 on the same port):
 *   GET /_sim/health                 -> { ok, activeSessions, cpuMicros: { user, system }, rssBytes }
 *   GET|POST|DELETE /_sim/faults     -> pending faults | add one (FaultRequest JSON) | clear
 *   GET|DELETE /_sim/sessions        -> session records (timestamps per turn) | forget the ended ones
 *   GET /_sim/sessions/{id}          -> one session record
 */
import { describeError } from "../../shared/errors.ts";
import { type AnyRequest, type AnyResponse, respond } from "./bidi-stream.ts";
import { type FaultPlan, parseFaultRequest } from "./faults.ts";
import type { SessionRegistry } from "./records.ts";

export interface ControlDeps {
  faults: FaultPlan;
  sessions: SessionRegistry;
  activeSessions: () => number;
}

const MAX_BODY_BYTES = 4096;

function json(res: AnyResponse, status: number, value: unknown): void {
  respond(
    res,
    status,
    { "content-type": "application/json", "cache-control": "no-store" },
    JSON.stringify(value),
  );
}

function readBody(req: AnyRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function handleControl(
  req: AnyRequest,
  res: AnyResponse,
  path: string,
  deps: ControlDeps,
): Promise<void> {
  const method = req.method ?? "GET";
  if (path === "/_sim/health" && method === "GET") {
    json(res, 200, {
      ok: true,
      activeSessions: deps.activeSessions(),
      cpuMicros: process.cpuUsage(),
      rssBytes: process.memoryUsage.rss(),
    });
  } else if (path === "/_sim/faults") {
    if (method === "GET") json(res, 200, deps.faults.pending());
    else if (method === "DELETE") {
      deps.faults.clear();
      json(res, 200, { ok: true });
    } else if (method === "POST") {
      try {
        deps.faults.add(parseFaultRequest(await readBody(req)));
        json(res, 200, deps.faults.pending());
      } catch (error) {
        json(res, 400, { error: describeError(error) });
      }
    } else json(res, 405, { error: `${method} not allowed` });
  } else if (path === "/_sim/sessions") {
    if (method === "GET") json(res, 200, deps.sessions.list());
    else if (method === "DELETE") {
      deps.sessions.clearEnded();
      json(res, 200, { ok: true });
    } else json(res, 405, { error: `${method} not allowed` });
  } else if (path.startsWith("/_sim/sessions/") && method === "GET") {
    const record = deps.sessions.get(decodeURIComponent(path.slice("/_sim/sessions/".length)));
    if (record) json(res, 200, record);
    else json(res, 404, { error: "no such session" });
  } else {
    json(res, 404, { error: `no route ${method} ${path}` });
  }
}
