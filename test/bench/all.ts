/**
 * `npm run bench`: the headline figures, then the fast paths measured on and off, then long-call session
 * switches — each benchmark in its own process, one after the other, on a quiet machine.
 *
 *   npm run bench                          all three; arguments go to the full-stack benchmark
 *   npm run bench -- --calls 30            e.g. 30 concurrent calls instead of 100
 *   npm run bench:full-stack / bench:fast-paths / bench:sessions   one of them
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL("./", import.meta.url));
const runs: Array<{ title: string; script: string; args: string[] }> = [
  { title: "full stack", script: "full-stack.ts", args: process.argv.slice(2) },
  { title: "fast paths on and off (warm pool, cached prompts)", script: "fast-paths.ts", args: [] },
  { title: "long calls: session switches", script: "session-switch.ts", args: [] },
];

let failed = 0;
for (const run of runs) {
  console.log(`\n=== ${run.title} ===`);
  const result = spawnSync(process.execPath, [`${HERE}${run.script}`, ...run.args], { stdio: "inherit" });
  if (result.status !== 0) {
    failed += 1;
    console.error(`${run.script} exited with ${result.status ?? result.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
