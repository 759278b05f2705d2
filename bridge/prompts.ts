/**
 * The bridge's instant prompts (greeting, hold, transfer, apology, goodbye): audio that plays without a
 * model round trip. Loaded at start-up: a prompt with a WAV file is converted at once; one without is
 * read from the disk cache (PROMPT_CACHE_DIR) or, when it is not there, rendered through Nova Sonic in
 * the background (one at a time, retried with backoff) and written to the cache. Until a prompt is ready
 * the call does what it would do without it (the model greets, no hold audio, …).
 */
import { readFileSync } from "node:fs";
import { AppError, describeError } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { ModelConfig } from "./config.ts";
import type { PromptId, PromptSource, PromptsConfig } from "./config-fast-paths.ts";
import {
  type PromptAudio,
  promptAudio,
  promptKey,
  readCachedPrompt,
  toMulawFrames,
  writeCachedPrompt,
} from "./prompt-audio.ts";
import type { RenderedPrompt } from "./prompt-render.ts";
import { decodeWav } from "./prompt-wav.ts";

export type PromptState =
  | { state: "ready"; source: PromptAudio["source"]; durationMs: number; text: string }
  | { state: "pending" }
  | { state: "failed"; error: string };

/** Renders one prompt's text (prompt-render.ts with the bridge's client, or anything that speaks). */
export type PromptRenderer = (text: string) => Promise<RenderedPrompt>;

const RENDER_ATTEMPTS = 3;
const RENDER_RETRY_MS = 1000;

export class PromptLibrary {
  readonly voiceId: string;
  readonly #model: ModelConfig;
  readonly #config: PromptsConfig;
  readonly #log: Logger;
  readonly #ready = new Map<PromptId, PromptAudio>();
  readonly #states = new Map<PromptId, PromptState>();
  #rendering: Promise<void> | null = null;

  private constructor(config: PromptsConfig, model: ModelConfig, logger: Logger) {
    this.#config = config;
    this.#model = model;
    this.voiceId = model.voiceId;
    this.#log = logger.child({ component: "prompts" });
  }

  /**
   * Converts the prompts given as files and reads rendered ones from the disk cache; throws
   * AppError("bad_config") for a file that cannot be read or played.
   */
  static load(args: {
    config: PromptsConfig;
    model: ModelConfig;
    logger: Logger;
    readFile?: (path: string) => Uint8Array;
  }): PromptLibrary {
    const library = new PromptLibrary(args.config, args.model, args.logger);
    const readFile = args.readFile ?? ((path: string) => readFileSync(path));
    for (const source of args.config.sources) {
      if (source.file !== null) {
        let bytes: Uint8Array;
        try {
          bytes = readFile(source.file);
        } catch (cause) {
          throw new AppError("bad_config", `prompt ${source.id}: cannot read ${source.file}`, { cause });
        }
        const wav = decodeWav(bytes, source.file);
        library.#add(
          promptAudio(source.id, source.text, "file", toMulawFrames(wav.samples, wav.sampleRateHz)),
        );
        library.#log.info("prompt loaded from file", {
          prompt: source.id,
          file: source.file,
          format: wav.description,
        });
        continue;
      }
      const cached = args.config.cacheDir
        ? readCachedPrompt(args.config.cacheDir, source.id, library.#key(source))
        : null;
      if (cached) library.#add(cached);
      else library.#states.set(source.id, { state: "pending" });
    }
    return library;
  }

  get(id: PromptId): PromptAudio | undefined {
    return this.#ready.get(id);
  }

  status(): Partial<Record<PromptId, PromptState>> {
    return Object.fromEntries(this.#states);
  }

  /** Prompts still to render (none when every prompt has a file or was cached). */
  get pending(): PromptId[] {
    return [...this.#states].filter(([, state]) => state.state === "pending").map(([id]) => id);
  }

  /**
   * Renders the pending prompts one at a time (in the background: callers need not wait; tests and
   * benchmarks may). Resolves when each is ready or has failed its attempts; never rejects.
   */
  renderPending(render: PromptRenderer, retryDelayMs = RENDER_RETRY_MS): Promise<void> {
    this.#rendering ??= this.#renderAll(render, retryDelayMs);
    return this.#rendering;
  }

  async #renderAll(render: PromptRenderer, retryDelayMs: number): Promise<void> {
    if (!this.#config.render) return;
    for (const source of this.#config.sources) {
      if (this.#states.get(source.id)?.state !== "pending") continue;
      await this.#renderOne(source, render, retryDelayMs);
    }
  }

  async #renderOne(source: PromptSource, render: PromptRenderer, retryDelayMs: number): Promise<void> {
    let lastError = "";
    for (let attempt = 1; attempt <= RENDER_ATTEMPTS; attempt++) {
      const startedMs = performance.now();
      try {
        const rendered = await render(source.text);
        const text = rendered.spokenText || source.text;
        const prompt = promptAudio(source.id, text, "rendered", rendered.mulaw);
        this.#add(prompt);
        this.#log.info("prompt rendered", {
          prompt: source.id,
          durationMs: prompt.durationMs,
          renderMs: Math.round(performance.now() - startedMs),
          spokenText: text,
        });
        if (this.#config.cacheDir) this.#store(source, prompt);
        return;
      } catch (error) {
        lastError = describeError(error);
        this.#log.warn("prompt rendering failed", { prompt: source.id, attempt, error: lastError });
        if (attempt < RENDER_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** (attempt - 1)));
        }
      }
    }
    this.#states.set(source.id, { state: "failed", error: lastError });
  }

  #store(source: PromptSource, prompt: PromptAudio): void {
    const dir = this.#config.cacheDir;
    if (!dir) return;
    try {
      writeCachedPrompt(dir, this.#key(source), prompt, {
        requestedText: source.text,
        voiceId: this.#model.voiceId,
        modelId: this.#model.modelId,
      });
    } catch (error) {
      this.#log.warn("rendered prompt not cached on disk", {
        prompt: source.id,
        error: describeError(error),
      });
    }
  }

  #key(source: PromptSource): string {
    return promptKey({ text: source.text, voiceId: this.#model.voiceId, modelId: this.#model.modelId });
  }

  #add(prompt: PromptAudio): void {
    this.#ready.set(prompt.id, prompt);
    this.#states.set(prompt.id, {
      state: "ready",
      source: prompt.source,
      durationMs: prompt.durationMs,
      text: prompt.text,
    });
  }
}
