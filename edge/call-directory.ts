/**
 * CallDirectory: one Durable Object listing the recent calls (for GET /calls) and counting requests the
 * edge refused before any call could be trusted (bad signatures). Rows older than RETENTION_DAYS go.
 */
import { DurableObject } from "cloudflare:workers";
import { AppError } from "../shared/errors.ts";
import { CALL_STATUSES, type CallStatus } from "./call-state.ts";
import { type EdgeConfig, parseEdgeConfig } from "./config.ts";
import type { EdgeEnv } from "./env.ts";

export interface DirectoryEntry {
  callSid: string;
  status: CallStatus;
  createdAtMs: number;
  updatedAtMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_LIST = 500;

export class CallDirectory extends DurableObject<EdgeEnv> {
  readonly #config: EdgeConfig;

  constructor(ctx: DurableObjectState, env: EdgeEnv) {
    super(ctx, env);
    this.#config = parseEdgeConfig(env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS call (call_sid TEXT PRIMARY KEY, status TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL)`,
    );
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS call_created ON call (created_at_ms)");
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS rejection (code TEXT PRIMARY KEY, count INTEGER NOT NULL)",
    );
  }

  async addCall(callSid: string, atMs: number): Promise<void> {
    this.ctx.storage.sql.exec(
      "INSERT INTO call (call_sid, status, created_at_ms, updated_at_ms) VALUES (?, 'ringing', ?, ?) ON CONFLICT (call_sid) DO NOTHING",
      callSid,
      atMs,
      atMs,
    );
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
  }

  setStatus(callSid: string, status: CallStatus, atMs: number): void {
    this.ctx.storage.sql.exec(
      "UPDATE call SET status = ?, updated_at_ms = ? WHERE call_sid = ?",
      status,
      atMs,
      callSid,
    );
  }

  list(limit: number): DirectoryEntry[] {
    const rows = this.ctx.storage.sql
      .exec(
        "SELECT call_sid, status, created_at_ms, updated_at_ms FROM call ORDER BY created_at_ms DESC, call_sid LIMIT ?",
        Math.max(1, Math.min(MAX_LIST, Math.floor(limit))),
      )
      .toArray();
    return rows.map((row) => {
      const { call_sid, status, created_at_ms, updated_at_ms } = row;
      const known = CALL_STATUSES.find((candidate) => candidate === status);
      if (
        typeof call_sid !== "string" ||
        !known ||
        typeof created_at_ms !== "number" ||
        typeof updated_at_ms !== "number"
      ) {
        throw new AppError("internal", "call directory: malformed row");
      }
      return { callSid: call_sid, status: known, createdAtMs: created_at_ms, updatedAtMs: updated_at_ms };
    });
  }

  countRejection(code: string): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO rejection (code, count) VALUES (?, 1) ON CONFLICT (code) DO UPDATE SET count = count + 1",
      code,
    );
  }

  rejections(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.ctx.storage.sql.exec("SELECT code, count FROM rejection ORDER BY code")) {
      if (typeof row.code === "string" && typeof row.count === "number") out[row.code] = row.count;
    }
    return out;
  }

  override async alarm(): Promise<void> {
    const cutoffMs = Date.now() - this.#config.retentionDays * DAY_MS;
    this.ctx.storage.sql.exec("DELETE FROM call WHERE created_at_ms < ?", cutoffMs);
    await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
  }
}
