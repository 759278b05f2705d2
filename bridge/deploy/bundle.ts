/**
 * `npm run build:bridge`: the bridge as a self-contained bundle in dist/bridge/, the only thing the
 * container image (bridge/Dockerfile) copies. No node_modules at run time:
 *   main.mjs          the bridge (bridge/main.ts and everything it imports, AWS SDK and ws included)
 *   healthcheck.mjs   the image's HEALTHCHECK: GET /healthz on the bridge's own port
 *   *.map             source maps (the image runs node --enable-source-maps)
 *   meta.json         esbuild's input list, for the bundle test (what went in, what stayed out)
 * The bridge reads no files of its own at run time (NOVA_SYSTEM_PROMPT_FILE is the operator's), so the
 * bundle carries no assets; the Nova Sonic simulator and the test fixtures must never be inside it.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const BRIDGE_BUNDLE_DIR = join(ROOT, "dist/bridge");
/** Entry points, by output name. */
export const BRIDGE_BUNDLE_ENTRIES = {
  main: "bridge/main.ts",
  healthcheck: "bridge/deploy/healthcheck.ts",
} as const;
/** Source paths that must not end up in the image. */
export const FORBIDDEN_BUNDLE_INPUTS = [/^bridge\/simulator\//, /^test\//, /\.test\.ts$/, /^edge\//];

export interface BridgeBundle {
  outDir: string;
  /** Input files (repo-relative) of each output, from esbuild's metafile. */
  inputsByOutput: Record<string, string[]>;
}

/**
 * CommonJS packages (ws, parts of the AWS SDK) call require() for Node built-ins; an ES module has no
 * require, so the bundle defines one.
 */
const ESM_REQUIRE_BANNER =
  'import { createRequire as __bundleCreateRequire } from "node:module";\n' +
  "const require = __bundleCreateRequire(import.meta.url);";

export async function buildBridgeBundle(outDir: string = BRIDGE_BUNDLE_DIR): Promise<BridgeBundle> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: Object.entries(BRIDGE_BUNDLE_ENTRIES).map(([out, entry]) => ({ in: entry, out })),
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    // Prefer the ES module builds of dual packages (the AWS SDK ships both).
    mainFields: ["module", "main"],
    // ws loads these optional native speed-ups inside try/catch; the bridge runs without them.
    external: ["bufferutil", "utf-8-validate"],
    banner: { js: ESM_REQUIRE_BANNER },
    sourcemap: true,
    metafile: true,
    legalComments: "linked",
    logLevel: "warning",
  });
  writeFileSync(join(outDir, "meta.json"), JSON.stringify(result.metafile));
  const bundle: BridgeBundle = { outDir, inputsByOutput: inputsByOutput(result.metafile) };
  const forbidden = Object.values(bundle.inputsByOutput)
    .flat()
    .filter((input) => FORBIDDEN_BUNDLE_INPUTS.some((pattern) => pattern.test(input)));
  if (forbidden.length > 0) {
    throw new Error(`the bridge bundle must not contain ${[...new Set(forbidden)].join(", ")}`);
  }
  return bundle;
}

function inputsByOutput(metafile: Metafile): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [outputPath, output] of Object.entries(metafile.outputs)) {
    if (outputPath.endsWith(".map")) continue;
    const name = outputPath.split("/").pop() ?? outputPath;
    out[name] = Object.keys(output.inputs).sort();
  }
  return out;
}

if (import.meta.main) {
  const startedMs = performance.now();
  const bundle = await buildBridgeBundle();
  const sources = Object.values(bundle.inputsByOutput)
    .flat()
    .filter((input) => !input.startsWith("node_modules/"));
  console.log(
    `bridge bundle in ${bundle.outDir}: ${Object.keys(bundle.inputsByOutput).join(", ")} ` +
      `(${new Set(sources).size} project modules) in ${Math.round(performance.now() - startedMs)} ms`,
  );
}
