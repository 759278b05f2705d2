/**
 * Audio path benchmark: CPU cost per 20 ms frame of each stage and of the full inbound and outbound
 * paths, for model audio at 8, 16 and 24 kHz. Run: npm run bench:audio
 *
 * inbound:  Twilio media frame JSON -> JSON.parse -> base64 -> μ-law -> PCM 8k -> (resample) -> base64 LE PCM
 * outbound: model base64 LE PCM -> PCM -> (resample) -> 8k -> μ-law -> base64 -> Twilio media frame JSON
 * Each row: median over RUNS runs of the mean time per frame, after warm-up, on real speech (a fixture
 * cycled frame by frame). "x real time" = 20 ms / cost: how many calls' worth of this work one core does.
 */
import {
  base64LeToPcm16,
  decodeBase64NativeInto,
  decodeBase64TableInto,
  encodeBase64,
  encodeBase64Table,
  mulawBase64ToPcm16,
  pcm16ToBase64Le,
} from "../../shared/audio/base64.ts";
import {
  FRAME_MS,
  MULAW_FRAME_BYTES,
  mulawToPcm16Into,
  pcm16ToMulawBitsInto,
  pcm16ToMulawInto,
} from "../../shared/audio/mulaw.ts";
import { Resampler, resample } from "../../shared/audio/resample.ts";
import { levelDbfs, VoiceActivityDetector } from "../../shared/audio/vad.ts";
import { loadAudioFixture } from "../fixtures/fixtures.ts";

const MODEL_RATES_HZ = [8000, 16000, 24000] as const;
const RUNS = 15;
const FRAMES_PER_RUN = 4000;
const WARMUP_FRAMES = 20000;
const STREAM_SID = "MZ18ad3ab5a668481ce02b83e7395059f0";

/** Median ns per call of `step(i)` for i = 0, 1, 2, ... (each call handles one 20 ms frame). */
function measure(step: (frame: number) => unknown): number {
  let sink = 0;
  for (let i = 0; i < WARMUP_FRAMES; i++) if (step(i) === sink) sink++;
  const perFrame: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < FRAMES_PER_RUN; i++) if (step(i) === sink) sink++;
    perFrame.push(Number(process.hrtime.bigint() - start) / FRAMES_PER_RUN);
  }
  perFrame.sort((a, b) => a - b);
  if (sink === -1) console.log(sink); // keeps results observable
  return perFrame[Math.floor(RUNS / 2)]!;
}

// --- inputs: real speech, framed ------------------------------------------------------------------------
const caller = loadAudioFixture("order-status", "speech");
const agent = loadAudioFixture("reply", "reply");
const frameCount = Math.floor(caller.mulaw.length / MULAW_FRAME_BYTES);
const twilioFrames = Array.from({ length: frameCount }, (_, i) =>
  JSON.stringify({
    event: "media",
    sequenceNumber: String(i + 2),
    streamSid: STREAM_SID,
    media: {
      track: "inbound",
      chunk: String(i + 1),
      timestamp: String(i * FRAME_MS),
      payload: encodeBase64(caller.mulaw.subarray(i * MULAW_FRAME_BYTES, (i + 1) * MULAW_FRAME_BYTES)),
    },
  }),
);
const pcm8kFrames = Array.from({ length: frameCount }, (_, i) =>
  caller.pcm.slice(i * MULAW_FRAME_BYTES, (i + 1) * MULAW_FRAME_BYTES),
);
const mulawFrames = Array.from({ length: frameCount }, (_, i) =>
  caller.mulaw.slice(i * MULAW_FRAME_BYTES, (i + 1) * MULAW_FRAME_BYTES),
);

type Row = { label: string; ns: (rateHz: number) => number | undefined; full?: boolean };

function samplesPerFrame(rateHz: number): number {
  return (rateHz * FRAME_MS) / 1000;
}

/** The model's 20 ms frames at `rateHz`, as base64 LE PCM and as PCM. */
function modelFrames(rateHz: number): { base64: string[]; pcm: Int16Array[] } {
  const pcm = rateHz === 8000 ? agent.pcm : resample(agent.pcm, 8000, rateHz);
  const size = samplesPerFrame(rateHz);
  const frames = Array.from({ length: Math.floor(pcm.length / size) }, (_, i) =>
    pcm.slice(i * size, (i + 1) * size),
  );
  return { base64: frames.map((f) => pcm16ToBase64Le(f)), pcm: frames };
}

function inboundPath(rateHz: number): (i: number) => unknown {
  const pcm8k = new Int16Array(MULAW_FRAME_BYTES);
  const resampler = rateHz === 8000 ? undefined : new Resampler(8000, rateHz);
  const modelPcm = new Int16Array(samplesPerFrame(rateHz));
  return (i) => {
    const frame: { media: { payload: string } } = JSON.parse(twilioFrames[i % frameCount]!);
    mulawBase64ToPcm16(frame.media.payload, pcm8k);
    if (resampler === undefined) return pcm16ToBase64Le(pcm8k);
    resampler.process(pcm8k, modelPcm);
    return pcm16ToBase64Le(modelPcm);
  };
}

function outboundPath(rateHz: number): (i: number) => unknown {
  const frames = modelFrames(rateHz);
  const modelPcm = new Int16Array(samplesPerFrame(rateHz));
  const resampler = rateHz === 8000 ? undefined : new Resampler(rateHz, 8000);
  const pcm8k = new Int16Array(MULAW_FRAME_BYTES);
  const mulaw = new Uint8Array(MULAW_FRAME_BYTES);
  return (i) => {
    base64LeToPcm16(frames.base64[i % frames.base64.length]!, modelPcm);
    const telephone = resampler === undefined ? modelPcm : pcm8k;
    if (resampler !== undefined) resampler.process(modelPcm, pcm8k);
    pcm16ToMulawInto(telephone, mulaw);
    return JSON.stringify({ event: "media", streamSid: STREAM_SID, media: { payload: encodeBase64(mulaw) } });
  };
}

const same = (ns: number) => () => ns;
const pcmOut = new Int16Array(MULAW_FRAME_BYTES);
const bytesOut = new Uint8Array(MULAW_FRAME_BYTES);
const payloads = mulawFrames.map((m) => encodeBase64(m));
const perRate = (make: (rateHz: number) => ((i: number) => unknown) | undefined) => {
  const results = new Map<number, number | undefined>();
  for (const rateHz of MODEL_RATES_HZ) {
    const step = make(rateHz);
    results.set(rateHz, step === undefined ? undefined : measure(step));
  }
  return (rateHz: number) => results.get(rateHz);
};

const upsample = (rateHz: number) => {
  if (rateHz === 8000) return undefined;
  const resampler = new Resampler(8000, rateHz);
  const out = new Int16Array(samplesPerFrame(rateHz));
  return (i: number) => resampler.process(pcm8kFrames[i % frameCount]!, out);
};
const downsample = (rateHz: number) => {
  if (rateHz === 8000) return undefined;
  const frames = modelFrames(rateHz).pcm;
  const resampler = new Resampler(rateHz, 8000);
  return (i: number) => resampler.process(frames[i % frames.length]!, pcmOut);
};
const modelBase64Encode = (rateHz: number) => {
  const frames = modelFrames(rateHz).pcm;
  return (i: number) => pcm16ToBase64Le(frames[i % frames.length]!);
};
const modelBase64Decode = (rateHz: number) => {
  const frames = modelFrames(rateHz).base64;
  const out = new Int16Array(samplesPerFrame(rateHz));
  return (i: number) => base64LeToPcm16(frames[i % frames.length]!, out);
};

const vad = new VoiceActivityDetector();
const rows: Row[] = [
  {
    label: "in   JSON.parse Twilio media frame",
    ns: same(measure((i) => JSON.parse(twilioFrames[i % frameCount]!))),
  },
  {
    label: "in   base64 payload -> 160 B (native)",
    ns: same(measure((i) => decodeBase64NativeInto(payloads[i % frameCount]!, bytesOut))),
  },
  {
    label: "in   base64 payload -> 160 B (JS table)",
    ns: same(measure((i) => decodeBase64TableInto(payloads[i % frameCount]!, bytesOut))),
  },
  {
    label: "in   μ-law -> PCM (256-entry table)",
    ns: same(measure((i) => mulawToPcm16Into(mulawFrames[i % frameCount]!, pcmOut))),
  },
  {
    label: "in   payload -> PCM (mulawBase64ToPcm16)",
    ns: same(measure((i) => mulawBase64ToPcm16(payloads[i % frameCount]!, pcmOut))),
  },
  { label: "in   resample 8k -> model rate", ns: perRate(upsample) },
  { label: "in   PCM -> base64 LE (pcm16ToBase64Le)", ns: perRate(modelBase64Encode) },
  { label: "in   FULL inbound path", ns: perRate(inboundPath), full: true },
  {
    label: "in   VAD on 20 ms (not in the path above)",
    ns: same(
      measure((i) =>
        vad.process(pcm8kFrames[i % frameCount]!, levelDbfs(pcm8kFrames[(i + 7) % frameCount]!)),
      ),
    ),
  },
  { label: "out  base64 LE -> PCM (base64LeToPcm16)", ns: perRate(modelBase64Decode) },
  { label: "out  resample model rate -> 8k", ns: perRate(downsample) },
  {
    label: "out  PCM -> μ-law (65,536-entry table)",
    ns: same(measure((i) => pcm16ToMulawInto(pcm8kFrames[i % frameCount]!, bytesOut))),
  },
  {
    label: "out  PCM -> μ-law (bit operations)",
    ns: same(measure((i) => pcm16ToMulawBitsInto(pcm8kFrames[i % frameCount]!, bytesOut))),
  },
  {
    label: "out  160 B -> base64 (native)",
    ns: same(measure((i) => encodeBase64(mulawFrames[i % frameCount]!))),
  },
  {
    label: "out  160 B -> base64 (JS table)",
    ns: same(measure((i) => encodeBase64Table(mulawFrames[i % frameCount]!))),
  },
  { label: "out  FULL outbound path", ns: perRate(outboundPath), full: true },
];

const FRAME_NS = FRAME_MS * 1e6;
const cell = (ns: number | undefined, full: boolean | undefined) => {
  if (ns === undefined) return "-".padStart(22);
  const text = `${(ns / 1000).toFixed(2)} µs`;
  return (full ? `${text}  ${Math.round(FRAME_NS / ns)}x RT` : text).padStart(22);
};

console.log(`\nAudio paths: CPU per 20 ms frame, one core (Node ${process.version}, ${process.arch}),`);
console.log(
  `median of ${RUNS} runs x ${FRAMES_PER_RUN} frames after ${WARMUP_FRAMES} warm-up; RT = multiple of real time\n`,
);
console.log(
  `${"stage".padEnd(44)}${MODEL_RATES_HZ.map((r) => `model ${r / 1000} kHz`.padStart(22)).join("")}`,
);
console.log("-".repeat(44 + 22 * MODEL_RATES_HZ.length));
for (const row of rows) {
  console.log(`${row.label.padEnd(44)}${MODEL_RATES_HZ.map((r) => cell(row.ns(r), row.full)).join("")}`);
}
const worst = Math.max(
  ...rows.filter((r) => r.full).flatMap((r) => MODEL_RATES_HZ.map((rate) => r.ns(rate) ?? 0)),
);
console.log(
  `\nworst full path: ${(worst / 1000).toFixed(2)} µs per frame = ${Math.round(FRAME_NS / worst)}x real time (target >= 2000x, <= 10 µs)`,
);
for (const rateHz of MODEL_RATES_HZ.filter((r) => r !== 8000)) {
  for (const [from, to] of [
    [8000, rateHz],
    [rateHz, 8000],
  ] as const) {
    const r = new Resampler(from, to);
    console.log(
      `resampler ${from} -> ${to} Hz: ${r.prototypeTaps}-tap prototype, ${r.macsPerOutput.toFixed(1)} multiply-adds per output sample, group delay ${r.delayMs.toFixed(3)} ms`,
    );
  }
}
