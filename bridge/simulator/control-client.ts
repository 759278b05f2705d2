/**
 * A client for the /_sim control routes of a separately started simulator (cleartext HTTP/2, which
 * fetch() does not speak): inject faults, read the session records with their timestamps.
 */
import http2 from "node:http2";
import { AppError } from "../../shared/errors.ts";
import type { FaultRequest } from "./faults.ts";
import type { SessionRecord } from "./records.ts";

async function call(baseUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const session = http2.connect(baseUrl);
  try {
    return await new Promise((resolve, reject) => {
      session.once("error", reject);
      const request = session.request({
        ":method": method,
        ":path": path,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      });
      let status = 0;
      const chunks: Buffer[] = [];
      request.on("response", (headers) => {
        status = Number(headers[":status"]);
      });
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("error", reject);
      request.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if (status !== 200)
          reject(new AppError("internal", `simulator ${method} ${path}: ${status} ${text}`));
        else resolve(JSON.parse(text));
      });
      request.end(body === undefined ? undefined : JSON.stringify(body));
    });
  } finally {
    session.close();
  }
}

export interface SimulatorHealth {
  ok: boolean;
  activeSessions: number;
  cpuMicros: { user: number; system: number };
  rssBytes: number;
}

export interface SimulatorControl {
  health(): Promise<SimulatorHealth>;
  addFault(fault: FaultRequest): Promise<void>;
  clearFaults(): Promise<void>;
  sessions(): Promise<SessionRecord[]>;
  clearSessions(): Promise<void>;
}

export function simulatorControl(baseUrl: string): SimulatorControl {
  return {
    async health() {
      return (await call(baseUrl, "GET", "/_sim/health")) as SimulatorHealth;
    },
    async addFault(fault) {
      await call(baseUrl, "POST", "/_sim/faults", fault);
    },
    async clearFaults() {
      await call(baseUrl, "DELETE", "/_sim/faults");
    },
    async sessions() {
      return (await call(baseUrl, "GET", "/_sim/sessions")) as SessionRecord[];
    },
    /** Forgets the records of ended sessions (live ones, e.g. pooled, stay). */
    async clearSessions() {
      await call(baseUrl, "DELETE", "/_sim/sessions");
    },
  };
}
