/**
 * Headless Chromium for the browser tests: Debian's chromium driven by playwright-core, a fresh profile
 * per launch, and a fake microphone that plays a WAV made here from the committed 8 kHz μ-law speech
 * fixtures (decoded by the shared codec, interpolated to 48 kHz by the shared resampler).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import { MULAW_BYTES_PER_MS } from "../../shared/audio/mulaw.ts";
import { resample } from "../../shared/audio/resample.ts";
import { loadAudioFixture } from "../fixtures/fixtures.ts";
import { wavFromPcm16 } from "../phone/wav.ts";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Screenshots and the fake microphone's WAV (gitignored). */
export const OUTPUT_DIR = fileURLToPath(new URL("../../bench-results/browser/", import.meta.url));

const FAKE_MIC_RATE_HZ = 48_000;

/**
 * Whether the browser tests can run. Missing Chromium fails them under CI=true (CI installs it, see
 * .ci/run) and skips them elsewhere, with the reason printed.
 */
export function chromiumProblem(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  return `Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`;
}

/** A speech fixture placed on the fake microphone's timeline. */
export interface MicrophoneSpeech {
  fixture: string;
  atMs: number;
}

/**
 * A 48 kHz WAV for Chromium's fake microphone: silence with the speech fixtures at their times, then
 * `tailMs` of silence (Chromium loops the file; the test ends before it repeats). Time 0 is when the
 * page opens the microphone, a little before the stream starts.
 */
export function fakeMicrophoneWav(name: string, speech: readonly MicrophoneSpeech[], tailMs: number): string {
  const placed = speech.map(({ fixture, atMs }) => ({
    pcm: loadAudioFixture(fixture, "speech").pcm,
    at: atMs * MULAW_BYTES_PER_MS,
  }));
  const length = Math.max(0, ...placed.map(({ pcm, at }) => at + pcm.length)) + tailMs * MULAW_BYTES_PER_MS;
  const whole = new Int16Array(length);
  for (const { pcm, at } of placed) whole.set(pcm, at);
  const pcm48k = resample(whole, 8000, FAKE_MIC_RATE_HZ);
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const path = join(OUTPUT_DIR, `fake-mic-${name}.wav`);
  writeFileSync(path, wavFromPcm16(pcm48k, FAKE_MIC_RATE_HZ));
  return path;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(options: { fakeMicrophoneWav?: string } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "nova-phone-chromium-"));
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
  ];
  if (options.fakeMicrophoneWav) {
    args.push(
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${options.fakeMicrophoneWav}`,
    );
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args,
    viewport: { width: 1000, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
