/**
 * The one place where inbound data meets a valibot schema: JSON text is parsed, checked against the
 * schema, and either returned typed or rejected with an AppError that names the field and the reason.
 */
import * as v from "valibot";
import { AppError, type ErrorCode } from "./errors.ts";

type AnySchema = v.GenericSchema<unknown, unknown>;

/** Checks `value` against `schema`; the error names `what` and the first failing field. */
export function validate<S extends AnySchema>(
  schema: S,
  value: unknown,
  what: string,
  code: ErrorCode = "bad_frame",
): v.InferOutput<S> {
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = issue ? v.getDotPath(issue) : null;
  const reason = issue ? issue.message : "invalid";
  throw new AppError(code, `${what}${path ? ` ${path}` : ""}: ${reason}`);
}

/** JSON.parse with a size cap and a coded error; the text is never echoed back in full. */
export function parseJsonText(text: string, maxChars: number, what: string): unknown {
  if (text.length > maxChars) {
    throw new AppError(
      "frame_too_large",
      `${what}: ${text.length} characters exceeds the limit of ${maxChars}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AppError("bad_json", `${what}: not valid JSON`, { cause });
  }
}

/** A string of decimal digits, as Twilio sends sequence numbers, chunks and timestamps. */
export const digitString = v.pipe(v.string(), v.regex(/^\d{1,15}$/, "expected a string of digits"));
