/** Reading 16-bit mono RIFF/WAVE files: the reply assets and the caller fixtures. */
import { AppError } from "../../shared/errors.ts";

export interface WavAudio {
  /** 16-bit little-endian mono PCM. */
  pcm: Uint8Array;
  sampleRateHz: number;
}

export function readWav(bytes: Uint8Array, what: string): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.byteLength < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") {
    throw new AppError("bad_config", `${what}: not a RIFF/WAVE file`);
  }
  let format: { channels: number; rateHz: number; bits: number } | undefined;
  for (let at = 12; at + 8 <= bytes.byteLength; ) {
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (tag(at) === "fmt ") {
      format = {
        channels: view.getUint16(body + 2, true),
        rateHz: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (tag(at) === "data") {
      if (format?.channels !== 1 || format.bits !== 16) {
        throw new AppError("bad_config", `${what}: expected 16-bit mono PCM`);
      }
      const length = Math.min(size, bytes.byteLength - body) & ~1;
      return { pcm: bytes.slice(body, body + length), sampleRateHz: format.rateHz };
    }
    at = body + size + (size % 2);
  }
  throw new AppError("bad_config", `${what}: no data chunk`);
}
