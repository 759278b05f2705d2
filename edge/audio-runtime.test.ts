// The audio core (shared/audio) must run unchanged inside workerd: native base64 is there, and the
// codecs give the same bytes as in Node (where shared/audio/*.test.ts check them in depth).
import { expect, it } from "vitest";
import {
  base64LeToPcm16,
  decodeBase64,
  mulawBase64ToPcm16,
  pcm16ToBase64Le,
} from "../shared/audio/base64.ts";
import { pcm16ToMulaw } from "../shared/audio/mulaw.ts";
import { Resampler } from "../shared/audio/resample.ts";

it("has Uint8Array.fromBase64/toBase64 in workerd", () => {
  expect(typeof Uint8Array.prototype.setFromBase64).toBe("function");
  expect(typeof Uint8Array.prototype.toBase64).toBe("function");
});

it("decodes a Twilio payload and round-trips model PCM in workerd", () => {
  const pcm = Int16Array.from({ length: 160 }, (_, n) => Math.round(12000 * Math.sin(n / 4)));
  const payload = pcm16ToMulaw(pcm).toBase64();
  const decoded = mulawBase64ToPcm16(payload);
  for (let i = 0; i < pcm.length; i++) expect(Math.abs(decoded[i]! - pcm[i]!)).toBeLessThan(400);
  expect(base64LeToPcm16(pcm16ToBase64Le(pcm))).toEqual(pcm);
  expect(() => decodeBase64("AA=A")).toThrow(/base64/);
  const up = new Resampler(8000, 24000);
  const out = new Int16Array(480);
  expect(up.process(decoded, out)).toBe(480);
});
