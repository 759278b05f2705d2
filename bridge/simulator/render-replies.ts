/**
 * Renders the simulator's reply sentences (replies.ts) to WAV at 8, 16 and 24 kHz with espeak-ng and sox,
 * into bridge/simulator/assets/. The output is committed; CI does not need espeak-ng or sox.
 *
 *   npx node bridge/simulator/render-replies.ts
 *
 * espeak-ng speaks at 22050 Hz; sox trims the silence around the sentence (keeping 50 ms each side),
 * normalises to -3 dBFS peak and resamples with its very-high-quality band-limited resampler (`rate -v`),
 * so 8 kHz is properly anti-aliased.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NOVA_SAMPLE_RATES_HZ } from "../../shared/nova-events.ts";
import { ASSETS_DIR, REPLY_IDS, REPLY_TEXTS, replyFileName } from "./replies.ts";

const VOICE = "en-us";
const WORDS_PER_MINUTE = "165";

const work = mkdtempSync(join(tmpdir(), "nova-sim-replies-"));
try {
  for (const id of REPLY_IDS) {
    const spoken = join(work, `${id}.wav`);
    execFileSync("espeak-ng", ["-v", VOICE, "-s", WORDS_PER_MINUTE, "-w", spoken, REPLY_TEXTS[id]]);
    for (const sampleRateHz of NOVA_SAMPLE_RATES_HZ) {
      const out = fileURLToPath(new URL(replyFileName(id, sampleRateHz), ASSETS_DIR));
      // biome-ignore format: one sox command line
      execFileSync("sox", [
        spoken, "-b", "16", "-e", "signed-integer", "-c", "1", out,
        "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
        "pad", "0.05", "0.05", "gain", "-n", "-3", "rate", "-v", String(sampleRateHz),
      ]);
      console.log(out);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
