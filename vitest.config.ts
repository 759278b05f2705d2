import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import type {} from "./edge/test-support/provided.ts";
import { SummaryReporter } from "./test/summary-reporter.ts";

export default defineConfig({
  test: {
    reporters: ["default", new SummaryReporter()],
    projects: [
      {
        plugins: [
          // Bindings (fake bridge URLs, test secrets) come from the edge globalSetup.
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: inject("edge").bindings },
          })),
        ],
        test: {
          name: "edge",
          include: ["edge/**/*.test.ts"],
          // Operator tools (edge/deploy/) and the browser pages' code (edge/web/) are tested by the node project.
          exclude: ["edge/deploy/**", "edge/web/**"],
          globalSetup: ["./test/edge/global-setup.ts"],
          // The fake bridges are shared: files that change their health must not overlap.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: [
            "shared/**/*.test.ts",
            "bridge/**/*.test.ts",
            "test/**/*.test.ts",
            "edge/web/**/*.test.ts",
            "edge/deploy/**/*.test.ts",
          ],
        },
      },
    ],
  },
});
