import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: { name: "edge", include: ["edge/**/*.test.ts"] },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["shared/**/*.test.ts", "bridge/**/*.test.ts", "test/**/*.test.ts"],
        },
      },
    ],
  },
});
