/**
 * V8 flags for the local workerd that runs the edge (the local stack, its benchmarks), passed the way
 * Miniflare takes them: the MINIFLARE_WORKERD_V8_FLAGS variable, space-separated. A value already set in the
 * environment wins (set but empty: V8's defaults).
 *
 * Why: locally one workerd thread runs every call's Durable Object in one isolate. Under load its
 * young-generation collections kept nearly all the per-message garbage (the heap grew to 38-51 MB, and only
 * a full, mark-compact collection brought it back to 2.5 MB); with V8's defaults that full collection
 * came every few seconds at 100 calls, as one pause of 35-70 ms with every call's media held
 * behind it (measured with --trace-gc: `MINIFLARE_WORKERD_V8_FLAGS="--trace-gc" npm run bench:full-stack --
 * --verbose`). A 1 MB young generation and an 8 MB initial old generation make the collections come
 * earlier and smaller: pauses of 10-17 ms, for about 0.03 % of a core more per call. Deployed Workers run
 * with Cloudflare's own settings; these flags only shape the local runtime.
 */
export const WORKERD_V8_FLAGS_VARIABLE = "MINIFLARE_WORKERD_V8_FLAGS";
export const LOCAL_WORKERD_V8_FLAGS: readonly string[] = [
  "--max-semi-space-size=1",
  "--initial-old-space-size=8",
];

/** The variable's value for a workerd child: the environment's own if set, else the local flags. */
export function workerdV8FlagsValue(env: NodeJS.ProcessEnv): string {
  return env[WORKERD_V8_FLAGS_VARIABLE] ?? LOCAL_WORKERD_V8_FLAGS.join(" ");
}
