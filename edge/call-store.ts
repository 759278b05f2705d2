/**
 * The call's storage inside its Durable Object (SQLite): the call row, its status history, stream events,
 * transcript, per-turn records and bad-frame counters. Every statement is parameterised; nothing here is
 * written per media frame. Tables are created when the call is first recorded, so looking up an unknown
 * call leaves no trace.
 */
import { parseBridgeControl, type TranscriptMessage, type TurnMessage } from "../shared/bridge-protocol.ts";
import { AppError } from "../shared/errors.ts";
import { CALL_STATUSES, type CallStatus, isFinalStatus } from "./call-state.ts";

export interface RingingCall {
  callSid: string;
  accountSid: string | null;
  from: string | null;
  to: string | null;
  bridgeId: string | null;
  bridgeRegion: string | null;
  atMs: number;
}

export interface StatusChange {
  status: CallStatus;
  reported: string;
  source: "voice" | "status-callback" | "stream";
  atMs: number;
}

export type TurnRecord = Omit<TurnMessage, "bridge"> & { atMs: number };

export interface CallRecord {
  callSid: string;
  accountSid: string | null;
  from: string | null;
  to: string | null;
  status: CallStatus;
  endReason: string | null;
  createdAtMs: number;
  updatedAtMs: number;
  endedAtMs: number | null;
  /** The bridge chosen when the call was answered, and the one serving the stream now (after failovers). */
  bridge: { id: string; region: string | null } | null;
  streamBridgeId: string | null;
  streamSid: string | null;
  sessionWarm: boolean | null;
  statusHistory: StatusChange[];
  streamEvents: { event: string; detail: string; atMs: number }[];
  transcript: { turnIndex: number; role: "USER" | "ASSISTANT"; text: string; atMs: number }[];
  turns: TurnRecord[];
  /** Frames dropped, by side and reason (`twilio.bad_json`, `bridge.frame_too_large`, …). */
  badFrames: Record<string, number>;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS call (
    id INTEGER PRIMARY KEY CHECK (id = 1), call_sid TEXT NOT NULL, account_sid TEXT, from_number TEXT,
    to_number TEXT, status TEXT NOT NULL, end_reason TEXT, created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL, ended_at_ms INTEGER, bridge_id TEXT, bridge_region TEXT,
    stream_bridge_id TEXT, stream_sid TEXT, session_warm INTEGER)`,
  `CREATE TABLE IF NOT EXISTS status_history (
    seq INTEGER PRIMARY KEY, status TEXT NOT NULL, reported TEXT NOT NULL, source TEXT NOT NULL, at_ms INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS stream_event (
    seq INTEGER PRIMARY KEY, event TEXT NOT NULL, detail TEXT NOT NULL, at_ms INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS transcript (
    seq INTEGER PRIMARY KEY, turn_index INTEGER NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, at_ms INTEGER NOT NULL)`,
  "CREATE TABLE IF NOT EXISTS turn (turn_index INTEGER PRIMARY KEY, frame TEXT NOT NULL, at_ms INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS bad_frame (kind TEXT PRIMARY KEY, count INTEGER NOT NULL)",
];

type Row = Record<string, SqlStorageValue>;

function column(row: Row, name: string): SqlStorageValue {
  if (!(name in row)) throw new AppError("internal", `call store: no column ${name}`);
  return row[name] ?? null;
}
function text(row: Row, name: string): string {
  const value = column(row, name);
  if (typeof value !== "string") throw new AppError("internal", `call store: ${name} is not text`);
  return value;
}
function textOrNull(row: Row, name: string): string | null {
  const value = column(row, name);
  return value === null ? null : text(row, name);
}
function int(row: Row, name: string): number {
  const value = column(row, name);
  if (typeof value !== "number") throw new AppError("internal", `call store: ${name} is not a number`);
  return value;
}
function intOrNull(row: Row, name: string): number | null {
  return column(row, name) === null ? null : int(row, name);
}
function callStatus(value: string): CallStatus {
  const status = CALL_STATUSES.find((candidate) => candidate === value);
  if (!status) throw new AppError("internal", `call store: unknown status ${value}`);
  return status;
}
function role(value: string): "USER" | "ASSISTANT" {
  if (value !== "USER" && value !== "ASSISTANT")
    throw new AppError("internal", `call store: bad role ${value}`);
  return value;
}

export class CallStore {
  readonly #sql: SqlStorage;

  private constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** The store of a recorded call, or null when this object has no call yet. */
  static open(sql: SqlStorage): CallStore | null {
    const found = sql
      .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", "call")
      .toArray();
    return found.length > 0 ? new CallStore(sql) : null;
  }

  /** Creates the tables and the call (or, when Twilio asks again, updates its bridge). */
  static create(sql: SqlStorage, call: RingingCall): CallStore {
    for (const statement of SCHEMA) sql.exec(statement);
    const store = new CallStore(sql);
    const existing = sql.exec("SELECT id FROM call WHERE id = 1").toArray();
    if (existing.length === 0) {
      sql.exec(
        `INSERT INTO call (id, call_sid, account_sid, from_number, to_number, status, created_at_ms, updated_at_ms,
          bridge_id, bridge_region) VALUES (1, ?, ?, ?, ?, 'ringing', ?, ?, ?, ?)`,
        call.callSid,
        call.accountSid,
        call.from,
        call.to,
        call.atMs,
        call.atMs,
        call.bridgeId,
        call.bridgeRegion,
      );
      store.addStatusChange({ status: "ringing", reported: "ringing", source: "voice", atMs: call.atMs });
    } else {
      sql.exec(
        "UPDATE call SET bridge_id = ?, bridge_region = ?, updated_at_ms = ? WHERE id = 1",
        call.bridgeId,
        call.bridgeRegion,
        call.atMs,
      );
    }
    return store;
  }

  get callSid(): string {
    return text(this.#callRow(), "call_sid");
  }

  summary(): { status: CallStatus; createdAtMs: number; endedAtMs: number | null; bridgeId: string | null } {
    const row = this.#callRow();
    return {
      status: callStatus(text(row, "status")),
      createdAtMs: int(row, "created_at_ms"),
      endedAtMs: intOrNull(row, "ended_at_ms"),
      bridgeId: textOrNull(row, "bridge_id"),
    };
  }

  /** Moves the call to `change.status` (final statuses stay); returns true when the status changed. */
  applyStatus(change: StatusChange, endReason: string | null): boolean {
    const current = callStatus(text(this.#callRow(), "status"));
    this.addStatusChange(change);
    if (current === change.status || isFinalStatus(current)) return false;
    const final = isFinalStatus(change.status);
    this.#sql.exec(
      "UPDATE call SET status = ?, updated_at_ms = ?, end_reason = ?, ended_at_ms = ? WHERE id = 1",
      change.status,
      change.atMs,
      final ? endReason : null,
      final ? change.atMs : null,
    );
    return true;
  }

  addStatusChange(change: StatusChange): void {
    this.#sql.exec(
      "INSERT INTO status_history (status, reported, source, at_ms) VALUES (?, ?, ?, ?)",
      change.status,
      change.reported,
      change.source,
      change.atMs,
    );
  }

  addStreamEvent(event: string, detail: string, atMs: number): void {
    this.#sql.exec("INSERT INTO stream_event (event, detail, at_ms) VALUES (?, ?, ?)", event, detail, atMs);
  }

  setStream(streamSid: string, atMs: number): void {
    this.#sql.exec("UPDATE call SET stream_sid = ?, updated_at_ms = ? WHERE id = 1", streamSid, atMs);
  }

  setStreamBridge(bridgeId: string, sessionWarm: boolean | null, atMs: number): void {
    this.#sql.exec(
      "UPDATE call SET stream_bridge_id = ?, session_warm = COALESCE(?, session_warm), updated_at_ms = ? WHERE id = 1",
      bridgeId,
      sessionWarm === null ? null : sessionWarm ? 1 : 0,
      atMs,
    );
  }

  addTranscript(message: TranscriptMessage): void {
    this.#sql.exec(
      "INSERT INTO transcript (turn_index, role, text, at_ms) VALUES (?, ?, ?, ?)",
      message.turnIndex,
      message.role,
      message.text,
      message.atMs,
    );
  }

  /** Keeps the turn's control frame as sent (validated again when read). A repeated index replaces it. */
  putTurn(turnIndex: number, frame: string, atMs: number): void {
    this.#sql.exec(
      "INSERT INTO turn (turn_index, frame, at_ms) VALUES (?, ?, ?) ON CONFLICT (turn_index) DO UPDATE SET frame = excluded.frame, at_ms = excluded.at_ms",
      turnIndex,
      frame,
      atMs,
    );
  }

  addBadFrames(counts: ReadonlyMap<string, number>): void {
    for (const [kind, count] of counts) {
      this.#sql.exec(
        "INSERT INTO bad_frame (kind, count) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET count = count + excluded.count",
        kind,
        count,
      );
    }
  }

  turns(): TurnRecord[] {
    const out: TurnRecord[] = [];
    for (const row of this.#sql.exec("SELECT frame, at_ms FROM turn ORDER BY turn_index")) {
      const message = parseBridgeControl(text(row, "frame"));
      if (message.bridge !== "turn")
        throw new AppError("internal", "call store: a stored turn is not a turn");
      const { bridge: _kind, ...turn } = message;
      out.push({ ...turn, atMs: int(row, "at_ms") });
    }
    return out;
  }

  transcript(): CallRecord["transcript"] {
    return this.#sql
      .exec("SELECT turn_index, role, text, at_ms FROM transcript ORDER BY seq")
      .toArray()
      .map((row) => ({
        turnIndex: int(row, "turn_index"),
        role: role(text(row, "role")),
        text: text(row, "text"),
        atMs: int(row, "at_ms"),
      }));
  }

  read(liveBadFrames: ReadonlyMap<string, number> = new Map()): CallRecord {
    const row = this.#callRow();
    const badFrames: Record<string, number> = {};
    for (const frameRow of this.#sql.exec("SELECT kind, count FROM bad_frame ORDER BY kind")) {
      badFrames[text(frameRow, "kind")] = int(frameRow, "count");
    }
    for (const [kind, count] of liveBadFrames) badFrames[kind] = (badFrames[kind] ?? 0) + count;
    const bridgeId = textOrNull(row, "bridge_id");
    const warm = intOrNull(row, "session_warm");
    return {
      callSid: text(row, "call_sid"),
      accountSid: textOrNull(row, "account_sid"),
      from: textOrNull(row, "from_number"),
      to: textOrNull(row, "to_number"),
      status: callStatus(text(row, "status")),
      endReason: textOrNull(row, "end_reason"),
      createdAtMs: int(row, "created_at_ms"),
      updatedAtMs: int(row, "updated_at_ms"),
      endedAtMs: intOrNull(row, "ended_at_ms"),
      bridge: bridgeId === null ? null : { id: bridgeId, region: textOrNull(row, "bridge_region") },
      streamBridgeId: textOrNull(row, "stream_bridge_id"),
      streamSid: textOrNull(row, "stream_sid"),
      sessionWarm: warm === null ? null : warm === 1,
      statusHistory: this.#sql
        .exec("SELECT status, reported, source, at_ms FROM status_history ORDER BY seq")
        .toArray()
        .map((r) => ({
          status: callStatus(text(r, "status")),
          reported: text(r, "reported"),
          source: statusSource(text(r, "source")),
          atMs: int(r, "at_ms"),
        })),
      streamEvents: this.#sql
        .exec("SELECT event, detail, at_ms FROM stream_event ORDER BY seq")
        .toArray()
        .map((r) => ({ event: text(r, "event"), detail: text(r, "detail"), atMs: int(r, "at_ms") })),
      transcript: this.transcript(),
      turns: this.turns(),
      badFrames,
    };
  }

  #callRow(): Row {
    const row = this.#sql.exec("SELECT * FROM call WHERE id = 1").toArray()[0];
    if (!row) throw new AppError("call_not_found", "call store: the call row is missing");
    return row;
  }
}

function statusSource(value: string): StatusChange["source"] {
  if (value === "voice" || value === "status-callback" || value === "stream") return value;
  throw new AppError("internal", `call store: bad status source ${value}`);
}
