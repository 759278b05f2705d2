/**
 * `npm start`: the whole stack on this machine — the edge in workerd (under wrangler dev, or straight in
 * workerd with EDGE_RUNTIME=workerd), the bridge, and the built-in Nova Sonic simulator — with dev-only
 * secrets unless the documented variables say otherwise. Ctrl-C stops every process it started.
 */
import { type RunningStack, stackOptionsFromEnv, startLocalStack } from "./local-stack.ts";

async function main(): Promise<void> {
  let options: ReturnType<typeof stackOptionsFromEnv>;
  try {
    options = stackOptionsFromEnv(process.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  const verbose = process.env.STACK_VERBOSE === "1";
  let stack: RunningStack | null = null;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("stopping the local stack …");
    await stack?.stop();
    process.exit(code);
  };
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));

  console.log("starting the local stack …");
  stack = await startLocalStack({
    ...options,
    onOutput: (name, line) => {
      if (verbose || name !== "edge" || /error|exception/i.test(line)) console.log(`[${name}] ${line}`);
    },
  });
  for (const [name, child] of stack.processes) {
    child.once("exit", (code, signal) => {
      if (stopping) return;
      console.error(`${name} exited unexpectedly (${code ?? signal}); stopping the stack`);
      void shutdown(1);
    });
  }
  const backend =
    options.backend.kind === "simulator"
      ? `built-in Nova Sonic simulator  ${stack.simulatorUrl}`
      : options.backend.kind === "endpoint"
        ? `Nova Sonic endpoint            ${options.backend.url}`
        : `Amazon Bedrock (${options.region}, credential chain)`;
  const edgeLabel =
    options.edgeRuntime === "workerd" ? "edge (workerd, direct)" : "edge (workerd, wrangler dev)";
  console.log(`  ${edgeLabel.padEnd(30)} ${stack.edgeUrl}   Twilio voice URL: ${stack.edgeUrl}/voice`);
  for (const url of stack.bridgeUrls) console.log(`  bridge                         ${url}`);
  console.log(`  model                          ${backend}`);
  console.log(`READY — place a call with: npm run call   (Ctrl-C stops everything)`);
}

main().catch((error: unknown) => {
  console.error(`the local stack failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
