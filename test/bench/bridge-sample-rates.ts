/**
 * Which sample rates should the bridge ask Nova Sonic for? Measures, per 20 ms frame, the bridge's CPU
 * cost and the bytes on the wire for each model rate, both ways, and the resampler's added delay.
 * Run: npx node test/bench/bridge-sample-rates.ts
 */

import { Downlink, Uplink } from "../../bridge/audio-paths.ts";
import { pcm16ToMulaw } from "../../shared/audio/mulaw.ts";
import { Resampler } from "../../shared/audio/resample.ts";

const RATES = [8000, 16000, 24000] as const;
const FRAMES = 50 * 120; // two minutes of audio

function speechLike(rateHz: number, ms: number): Int16Array {
  const out = new Int16Array((rateHz * ms) / 1000);
  for (let n = 0; n < out.length; n++) {
    const t = n / rateHz;
    out[n] = Math.round(
      6000 * Math.sin(2 * Math.PI * 180 * t) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t)) +
        2500 * Math.sin(2 * Math.PI * 1200 * t) +
        900 * Math.sin(2 * Math.PI * 2900 * t),
    );
  }
  return out;
}

function littleEndian(samples: Int16Array): Uint8Array {
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}

function timePerFrameUs(run: () => void): number {
  for (let i = 0; i < 500; i++) run(); // warm up
  const start = process.cpuUsage();
  for (let i = 0; i < FRAMES; i++) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / FRAMES;
}

const caller = pcm16ToMulaw(speechLike(8000, 20));
const callerBase64 = Buffer.from(caller).toString("base64");
console.log(
  "model rate | uplink µs/frame | audioInput base64 chars | downlink µs/frame | model audio bytes/frame | filter delay up / down ms",
);
for (const rateHz of RATES) {
  const uplink = new Uplink(rateHz);
  let inputChars = 0;
  const upUs = timePerFrameUs(() => {
    uplink.push(callerBase64);
    inputChars = uplink.take(1)?.length ?? 0;
  });
  const modelFrame = littleEndian(speechLike(rateHz, 20));
  const downlink = new Downlink(rateHz);
  const downUs = timePerFrameUs(() => downlink.convert(modelFrame));
  const upDelayMs = rateHz === 8000 ? 0 : new Resampler(8000, rateHz).delayMs;
  const downDelayMs = rateHz === 8000 ? 0 : new Resampler(rateHz, 8000).delayMs;
  console.log(
    `${String(rateHz).padStart(10)} | ${upUs.toFixed(2).padStart(15)} | ${String(inputChars).padStart(23)} | ${downUs
      .toFixed(2)
      .padStart(
        17,
      )} | ${String(modelFrame.length).padStart(23)} | ${upDelayMs.toFixed(2)} / ${downDelayMs.toFixed(2)}`,
  );
}
