import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildWebAssets, GENERATED_PATH } from "./build.ts";

describe("web assets", () => {
  it("edge/web-assets.generated.ts is what web/build.ts makes from the sources now (run npm run build:web)", async () => {
    const built = await buildWebAssets();
    const committed = readFileSync(GENERATED_PATH, "utf8");
    expect(committed === built, "edge/web-assets.generated.ts is stale: run `npm run build:web`").toBe(true);
  });

  it("bundles the shared codec into the worklet, which must not need TextDecoder or performance", async () => {
    const module = await import("../web-assets.generated.ts");
    const worklet = module.WEB_ASSETS["phone-worklet.js"]?.body ?? "";
    expect(worklet).toContain("registerProcessor");
    expect(worklet).not.toMatch(/TextDecoder|TextEncoder|performance\./);
  });
});
