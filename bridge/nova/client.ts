/**
 * The Bedrock runtime client for Nova Sonic, configured from the standard AWS environment: AWS_REGION,
 * the default credential chain, and AWS_ENDPOINT_URL_BEDROCK_RUNTIME (read by the SDK itself, e.g. to
 * reach the local simulator). Streams go over HTTP/2 with both idle timeouts set: `sessionTimeout` closes
 * an idle connection, `requestTimeout` ends a stream that has been silent that long in both directions.
 * Input events are serialized by our own marshaller (event-marshaller.ts) and signed by our own payload
 * handler (event-signing.ts): the same bytes as the SDK's, less CPU.
 */
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from "@aws-sdk/client-bedrock-runtime";
import { NodeHttp2Handler } from "@smithy/node-http-handler";
import { eventMarshallerProvider } from "./event-marshaller.ts";
import { type EventSigningOptions, eventSigningProvider } from "./event-signing.ts";

export interface NovaClientOptions {
  /** Default: AWS_REGION / the SDK's region chain. */
  region?: string;
  /** Default: AWS_ENDPOINT_URL_BEDROCK_RUNTIME or the regional endpoint. */
  endpoint?: string;
  credentials?: BedrockRuntimeClientConfig["credentials"];
  requestTimeoutMs?: number;
  sessionTimeoutMs?: number;
  /** Default: a NodeHttp2Handler with the two timeouts above (which are then ignored). */
  requestHandler?: BedrockRuntimeClientConfig["requestHandler"];
  /** Hooks of our event signer, or "sdk" to sign with the SDK's own handler (for comparisons). */
  eventSigning?: EventSigningOptions | "sdk";
  /** "sdk" to encode input events with the SDK's own marshaller (for comparisons). Default: ours. */
  eventSerde?: "ours" | "sdk";
}

export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;

export function createNovaClient(options: NovaClientOptions = {}): BedrockRuntimeClient {
  const eventSigning = options.eventSigning ?? {};
  return new BedrockRuntimeClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(eventSigning === "sdk"
      ? {}
      : { eventStreamPayloadHandlerProvider: eventSigningProvider(eventSigning) }),
    ...(options.eventSerde === "sdk" ? {} : { eventStreamSerdeProvider: eventMarshallerProvider() }),
    requestHandler:
      options.requestHandler ??
      new NodeHttp2Handler({
        requestTimeout: options.requestTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS,
        sessionTimeout: options.sessionTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS,
      }),
  });
}
