/**
 * Structured logs: one JSON object a line, with the context of the logger that wrote it
 * (`component`, `callSid`, ...). Phone numbers are redacted wherever they appear in a string value;
 * keys that name secrets are never written.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * E.164 (`+14155550123`), bare 10-15 digit runs and formatted North-American numbers
 * (`+1 (415) 555-0199`). The last two digits are kept so calls can still be told apart.
 */
const PHONE_NUMBER = /\+\d{7,15}\b|\b\d{10,15}\b|(?:\+?\b1[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b/g;
const SECRET_KEY = /(token|secret|password|authorization|signature|credential|apikey|api_key)/i;

export function redactPhoneNumbers(text: string): string {
  return text.replace(PHONE_NUMBER, (match) => {
    const digits = match.replace(/\D/g, "");
    if (digits.length < 8) return match;
    return `[phone …${digits.slice(-2)}]`;
  });
}

function sanitize(value: unknown, depth: number): unknown {
  if (typeof value === "string") return redactPhoneNumbers(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 4) return "[nested]";
  if (value instanceof Error) return { message: redactPhoneNumbers(value.message), name: value.name };
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? "[redacted]" : sanitize(inner, depth + 1);
  }
  return out;
}

export type LogSink = (line: string, level: LogLevel) => void;

export const consoleSink: LogSink = (line, level) => {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
};

export class Logger {
  readonly #context: LogFields;
  readonly #minRank: number;
  readonly #sink: LogSink;
  readonly #now: () => number;

  constructor(
    context: LogFields = {},
    options: { level?: LogLevel; sink?: LogSink; now?: () => number } = {},
  ) {
    this.#context = context;
    this.#minRank = LEVEL_RANK[options.level ?? "info"];
    this.#sink = options.sink ?? consoleSink;
    this.#now = options.now ?? Date.now;
  }

  child(context: LogFields): Logger {
    return new Logger(
      { ...this.#context, ...context },
      { level: this.level, sink: this.#sink, now: this.#now },
    );
  }

  get level(): LogLevel {
    for (const [name, rank] of Object.entries(LEVEL_RANK))
      if (rank === this.#minRank) return name as LogLevel;
    return "info";
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= this.#minRank;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#write("error", msg, fields);
  }

  #write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (LEVEL_RANK[level] < this.#minRank) return;
    const body = sanitize({ level, msg, ...this.#context, ...fields }, 0);
    this.#sink(JSON.stringify({ ts: new Date(this.#now()).toISOString(), ...(body as LogFields) }), level);
  }
}
