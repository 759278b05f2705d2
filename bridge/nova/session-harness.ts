/**
 * Test harness for Nova Sonic sessions against the simulator: a client set up for it, an event watcher
 * that waits for expected events, and a real-time audio feeder (20 ms frames). Used by the NovaSession
 * and simulator tests.
 */
import { readFileSync } from "node:fs";
import { Logger } from "../../shared/log.ts";
import type { NovaOutputEvent } from "../../shared/nova-events.ts";
import type { SimulatorOptions } from "../simulator/server.ts";
import { readWav } from "../simulator/wav.ts";
import { createNovaClient } from "./client.ts";
import { NovaSession, type NovaSessionConfig } from "./session.ts";

export const CREDENTIALS = { accessKeyId: "AKIDSIMULATOR", secretAccessKey: "simulator-secret" };
export const REGION = "us-east-1";
export const RATE_HZ = 16000;
export const FRAME_MS = 20;
export const FRAME_BYTES = (RATE_HZ / 1000) * FRAME_MS * 2;
export const quiet = new Logger({}, { level: "error" });

export const CONFIG: NovaSessionConfig = {
  modelId: "amazon.nova-2-sonic-v1:0",
  voiceId: "matthew",
  systemPrompt: "You are a helpful phone agent.",
  inputSampleRateHz: RATE_HZ,
  outputSampleRateHz: 8000,
  endpointingSensitivity: "HIGH",
  maxTokens: 1024,
  temperature: 0.7,
  topP: 0.9,
};

/** Credentials checked, a short turn-end pause and a tiny model latency: short tests. */
export const SIM_OPTIONS: SimulatorOptions = {
  credentials: CREDENTIALS,
  region: REGION,
  modelLatency: { medianMs: 5, p95Ms: 15 },
  seed: 7,
  pauseMsBySensitivity: { HIGH: 300, MEDIUM: 300, LOW: 300 },
  logger: quiet,
};

/** A reply the simulator ships, as caller speech at 16 kHz: real espeak-ng speech. */
export function speechAsset(name: string): Uint8Array {
  return readWav(readFileSync(new URL(`../simulator/assets/${name}-16k.wav`, import.meta.url)), name).pcm;
}

const SILENCE = new Uint8Array(FRAME_BYTES);

export function openSession(
  url: string,
  config: Partial<NovaSessionConfig> = {},
  options: { secret?: string; signal?: AbortSignal } = {},
): NovaSession {
  const client = createNovaClient({
    region: REGION,
    endpoint: url,
    credentials: { ...CREDENTIALS, secretAccessKey: options.secret ?? CREDENTIALS.secretAccessKey },
    requestTimeoutMs: 10_000,
    sessionTimeoutMs: 10_000,
  });
  return NovaSession.open(
    { ...CONFIG, ...config },
    { client, logger: quiet, ...(options.signal ? { signal: options.signal } : {}) },
  );
}

/** Consumes a session's events; tests wait for the ones they expect. */
export function watch(session: NovaSession) {
  const events: NovaOutputEvent[] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const event of session.events()) {
        events.push(event);
        wake?.();
      }
    } catch (error) {
      failure = error;
    } finally {
      wake?.();
    }
  })();
  let finished = false;
  void done.then(() => {
    finished = true;
  });
  return {
    events,
    /** The first event from `from` on that matches; fails if the stream ends first or after 8 s. */
    async next(match: (event: NovaOutputEvent) => boolean, from = 0): Promise<NovaOutputEvent> {
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline) {
        const found = events.slice(from).find(match);
        if (found) return found;
        if (finished) throw new Error(`stream ended without the event (${String(failure)})`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      throw new Error("no such event within 8 s");
    },
    /** The error the event stream ended with (waits for the end). */
    async failure(): Promise<unknown> {
      await done;
      return failure;
    },
  };
}

/** Feeds audio in real time, 20 ms frames: `script` gives the frame to send at each step, then silence. */
export function feed(session: NovaSession, script: (frameIndex: number) => Uint8Array | undefined) {
  const startedAt = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - startedAt) / FRAME_MS);
    for (; sent <= due; sent++) session.sendAudio(script(sent) ?? SILENCE);
  }, FRAME_MS);
  return {
    stop: () => clearInterval(timer),
    /** The index of the frame being sent now. */
    frameNow: () => Math.floor((performance.now() - startedAt) / FRAME_MS),
  };
}

/** A feed script playing `speech` from frame `startFrame` on. */
export const speechFrom = (speech: Uint8Array, startFrame: number) => (index: number) => {
  const at = (index - startFrame) * FRAME_BYTES;
  return at >= 0 && at < speech.byteLength ? speech.subarray(at, at + FRAME_BYTES) : undefined;
};

export const isKind =
  <K extends NovaOutputEvent["kind"]>(
    kind: K,
    test: (event: Extract<NovaOutputEvent, { kind: K }>) => boolean = () => true,
  ) =>
  (event: NovaOutputEvent): boolean =>
    event.kind === kind && test(event as Extract<NovaOutputEvent, { kind: K }>);

export const finalAssistantText = isKind(
  "contentStart",
  (e) => e.body.role === "ASSISTANT" && e.generationStage === "FINAL",
);

export function summary(events: NovaOutputEvent[]): string[] {
  const out: string[] = [];
  for (const event of events) {
    const tag =
      event.kind === "contentStart"
        ? `contentStart ${event.body.type} ${event.body.role} ${event.generationStage ?? ""}`.trim()
        : event.kind === "contentEnd"
          ? `contentEnd ${event.body.type} ${event.body.stopReason}`
          : event.kind;
    if (out.at(-1) !== tag) out.push(tag);
  }
  return out;
}
