import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { wavFromPcm16 } from "./wav.ts";

describe("wavFromPcm16", () => {
  it("writes a header that states the rate, width and length", () => {
    const pcm = Int16Array.from({ length: 800 }, (_, i) => Math.round(1000 * Math.sin(i / 3)));
    const wav = wavFromPcm16(pcm, 8000);
    const view = new DataView(wav.buffer);
    expect(new TextDecoder().decode(wav.subarray(0, 4))).toBe("RIFF");
    expect(view.getUint32(24, true)).toBe(8000);
    expect(view.getUint16(34, true)).toBe(16);
    expect(view.getUint32(40, true)).toBe(1600);
    expect(view.getInt16(44 + 2 * 5, true)).toBe(pcm[5]);
  });

  it.skipIf(!hasSox())("is read by sox as 0.1 s of 8 kHz mono audio", () => {
    const dir = mkdtempSync(join(tmpdir(), "wav-"));
    const file = join(dir, "a.wav");
    writeFileSync(file, wavFromPcm16(new Int16Array(800), 8000));
    expect(execFileSync("soxi", ["-D", file]).toString().trim()).toBe("0.100000");
  });
});

function hasSox(): boolean {
  try {
    execFileSync("soxi", ["-h"], { stdio: "ignore" });
    return true;
  } catch (error) {
    return !(error instanceof Error && "code" in error && error.code === "ENOENT");
  }
}
