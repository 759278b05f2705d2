/**
 * The Node options the bridge runs with, wherever it runs: the image's entrypoint (bridge/Dockerfile) and
 * `npm run bridge` write them out (a test checks both), the local stack and bench:bridge use this list.
 *
 * --max-semi-space-size=16: V8's young generation capped at 16 MB a semi-space. Its default grows with the
 * heap limit and left 1.2-1.6 MB of RSS per call at 100 calls; capped, 0.85-0.93 MB at the same CPU
 * (`npm run bench:bridge`, README "Figures").
 */
export const BRIDGE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=16"];
