/**
 * What every stand-in of Twilio's REST API shares: Twilio's error shape, form bodies checked as strictly
 * as Twilio checks parameter names, HTTP Basic credentials, JSON answers, and a server on loopback.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export const API_BASE = "/2010-04-01/Accounts/";

/** An error as Twilio's REST API reports it: an HTTP status and a Twilio error code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(status: number, code: number, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** Refuses unknown and repeated parameter names, as the stand-ins are stricter than Twilio here. */
export function checkNames(pairs: ReadonlyArray<[string, string]>, allowed: ReadonlySet<string>): void {
  const seen = new Set<string>();
  for (const [name] of pairs) {
    if (!allowed.has(name)) throw new ApiError(400, 20001, `Unknown parameter ${name}`);
    if (seen.has(name)) throw new ApiError(400, 20001, `Parameter ${name} given more than once`);
    seen.add(name);
  }
}

/** The user and password of an HTTP Basic `Authorization` header ("" when absent or malformed). */
export function basicCredentials(request: IncomingMessage): { user: string; password: string } {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(request.headers.authorization ?? "");
  const decoded = match ? Buffer.from(match[1]!, "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  return colon > 0
    ? { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
    : { user: "", password: "" };
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  };
  if (status === 401) headers["www-authenticate"] = 'Basic realm="Twilio API"';
  response.writeHead(status, headers);
  response.end(text);
}

export interface RunningStandIn {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `handle` on a free loopback port: its result is the JSON answer (200 unless it says otherwise),
 * an ApiError becomes Twilio's error body, anything else a 500. `onStatus` sees every status sent.
 */
export async function serveStandIn(
  handle: (request: IncomingMessage) => Promise<{ status?: number; body: unknown }>,
  onStatus: (request: IncomingMessage, status: number) => void = () => {},
): Promise<RunningStandIn> {
  const server = createServer((request, response) => {
    handle(request).then(
      ({ status = 200, body }) => {
        onStatus(request, status);
        answer(response, status, body);
      },
      (error: unknown) => {
        const apiError =
          error instanceof ApiError ? error : new ApiError(500, 20500, "Internal Server Error");
        onStatus(request, apiError.status);
        answer(response, apiError.status, {
          code: apiError.code,
          message: apiError.message,
          more_info: `https://www.twilio.com/docs/errors/${apiError.code}`,
          status: apiError.status,
        });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("the stand-in has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
