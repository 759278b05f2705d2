/**
 * The prompt library: a deployer's WAV file converted on load, a prompt rendered through Nova Sonic (the
 * simulator, over the real AWS SDK) in the deployment's voice with its FINAL text captured, the rendering
 * kept on disk and read back on the next start without asking the model again.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MULAW_FRAME_BYTES } from "../shared/audio/mulaw.ts";
import { parseBridgeConfig } from "./config.ts";
import type { PromptsConfig } from "./config-fast-paths.ts";
import { createNovaClient } from "./nova/client.ts";
import { CREDENTIALS, quiet, REGION, SIM_OPTIONS } from "./nova/session-harness.ts";
import { renderPrompt } from "./prompt-render.ts";
import { PromptLibrary } from "./prompts.ts";
import { REPLY_TEXTS } from "./simulator/replies.ts";
import { type NovaSimulator, startNovaSimulator } from "./simulator/server.ts";
import { readWav } from "./simulator/wav.ts";

const ASSET = (name: string) => fileURLToPath(new URL(`./simulator/assets/${name}`, import.meta.url));
const model = parseBridgeConfig({ BRIDGE_SECRET: "prompt-test-secret-0123", BRIDGE_REGION: REGION }).model;
let simulator: NovaSimulator;
let client: ReturnType<typeof createNovaClient>;
let cacheDir: string;

beforeAll(async () => {
  simulator = await startNovaSimulator(SIM_OPTIONS);
  client = createNovaClient({ region: REGION, endpoint: simulator.url, credentials: CREDENTIALS });
  cacheDir = mkdtempSync(join(tmpdir(), "prompts-test-"));
});
afterAll(async () => {
  client.destroy();
  await simulator.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

const now = () => performance.timeOrigin + performance.now();
const render = (text: string) => renderPrompt({ client, model, text, logger: quiet, now });

describe("prompt library", () => {
  it("converts files on load, renders the rest through Nova Sonic once, and reads renderings back from disk", async () => {
    const config: PromptsConfig = {
      sources: [
        { id: "hold", text: REPLY_TEXTS.more, file: ASSET("more-24k.wav") },
        { id: "greeting", text: REPLY_TEXTS.greeting, file: null },
      ],
      cacheDir,
      render: true,
    };
    const library = PromptLibrary.load({ config, model, logger: quiet });
    const hold = library.get("hold");
    const heldMs = (readWav(readFileSync(ASSET("more-24k.wav")), "more").pcm.length / 2 / 24_000) * 1000;
    expect(hold).toMatchObject({ source: "file", text: REPLY_TEXTS.more });
    expect(Math.abs(hold!.durationMs - heldMs)).toBeLessThanOrEqual(20);
    expect(library.get("greeting")).toBeUndefined();
    expect(library.pending).toEqual(["greeting"]);

    await library.renderPending(render);
    const greeting = library.get("greeting");
    expect(greeting).toMatchObject({ source: "rendered", text: REPLY_TEXTS.greeting });
    expect(greeting!.mulaw.length % MULAW_FRAME_BYTES).toBe(0);
    const asset = readWav(readFileSync(ASSET("greeting-8k.wav")), "greeting");
    expect(Math.abs(greeting!.durationMs - asset.pcm.length / 16)).toBeLessThanOrEqual(20);
    const record = simulator.sessions.list().at(-1)!;
    expect(record.turns[0]).toMatchObject({ trigger: "text", replyId: "greeting" });
    expect(record.received.slice(-3)).toEqual(["contentEnd", "promptEnd", "sessionEnd"]);
    expect(readdirSync(cacheDir)).toHaveLength(1);

    const sessionsBefore = simulator.sessions.list().length;
    const restarted = PromptLibrary.load({ config, model, logger: quiet });
    expect(restarted.pending).toEqual([]);
    expect(restarted.get("greeting")).toMatchObject({ source: "disk", text: REPLY_TEXTS.greeting });
    expect(restarted.get("greeting")?.mulaw).toEqual(greeting?.mulaw);
    await restarted.renderPending(render);
    expect(simulator.sessions.list().length).toBe(sessionsBefore);

    // Another voice is another key: not read from the cache.
    const otherVoice = PromptLibrary.load({ config, model: { ...model, voiceId: "tiffany" }, logger: quiet });
    expect(otherVoice.pending).toEqual(["greeting"]);
  }, 30_000);

  it("refuses a prompt file it cannot read, naming it", () => {
    const config: PromptsConfig = {
      sources: [{ id: "goodbye", text: "Bye.", file: "/nonexistent/goodbye.wav" }],
      cacheDir: null,
      render: false,
    };
    expect(() => PromptLibrary.load({ config, model, logger: quiet })).toThrow(/goodbye: cannot read/);
  });

  it("marks a prompt failed when rendering keeps failing, and carries on", async () => {
    const config: PromptsConfig = {
      sources: [{ id: "apology", text: "Sorry.", file: null }],
      cacheDir: null,
      render: true,
    };
    const library = PromptLibrary.load({ config, model, logger: quiet });
    let attempts = 0;
    await library.renderPending(async () => {
      attempts++;
      throw new Error("no model today");
    }, 10);
    expect(attempts).toBe(3);
    expect(library.status().apology).toEqual({ state: "failed", error: "no model today" });
    expect(library.get("apology")).toBeUndefined();
  }, 15_000);
});
