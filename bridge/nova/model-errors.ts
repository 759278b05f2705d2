/**
 * What went wrong with the model, as an AppError code. The SDK rejects send() with typed exceptions for
 * HTTP-level errors and throws the in-stream exception frames from the output iteration; both carry the
 * AWS error name. A reset, an abort or a timeout instead ends the output quietly (see session.ts).
 */
import { AppError, type ErrorCode } from "../../shared/errors.ts";

const CODE_BY_AWS_ERROR: Readonly<Record<string, ErrorCode>> = {
  ThrottlingException: "model_throttled",
  ServiceQuotaExceededException: "model_throttled",
  TooManyRequestsException: "model_throttled",
  ValidationException: "model_validation",
  ModelStreamErrorException: "model_stream_error",
  ModelTimeoutException: "model_timeout",
  ServiceUnavailableException: "model_unavailable",
  InternalServerException: "model_unavailable",
  ModelNotReadyException: "model_unavailable",
  ModelErrorException: "model_unavailable",
  ResourceNotFoundException: "bad_config",
  AccessDeniedException: "bad_config",
  UnrecognizedClientException: "bad_config",
  InvalidSignatureException: "bad_config",
  IncompleteSignatureException: "bad_config",
  MissingAuthenticationTokenException: "bad_config",
  ExpiredTokenException: "bad_config",
  CredentialsProviderError: "bad_config",
};

/** The AWS error name, however the SDK spelled it (typed exception, in-stream member name). */
function awsErrorName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const name = error.name === "Error" ? ((error as { code?: unknown }).code ?? error.name) : error.name;
  if (typeof name !== "string") return undefined;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function modelError(error: unknown, during: string): AppError {
  if (error instanceof AppError) return error;
  const name = awsErrorName(error);
  const message = error instanceof Error ? error.message : String(error);
  const code = name ? CODE_BY_AWS_ERROR[name] : undefined;
  if (code) return new AppError(code, `${during}: ${name}: ${message}`, { cause: error });
  if (/abnormally aborted|stream.*(reset|closed)|ERR_HTTP2_STREAM/i.test(message)) {
    return new AppError("model_stream_ended", `${during}: the stream was reset: ${message}`, {
      cause: error,
    });
  }
  return new AppError("model_unavailable", `${during}: ${name ?? "error"}: ${message}`, { cause: error });
}
