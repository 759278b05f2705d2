/** The Worker's bindings: configuration (see config.ts) and the Durable Object namespaces. */
import type { BridgeRegistry } from "./bridge-registry.ts";
import type { CallDirectory } from "./call-directory.ts";
import type { CallSession } from "./call-session.ts";
import type { EdgeVars } from "./config.ts";

export interface EdgeEnv extends EdgeVars {
  CALL_SESSION: DurableObjectNamespace<CallSession>;
  BRIDGE_REGISTRY: DurableObjectNamespace<BridgeRegistry>;
  CALL_DIRECTORY: DurableObjectNamespace<CallDirectory>;
}

declare global {
  namespace Cloudflare {
    interface Env extends EdgeEnv {}
  }
}

/** One registry per region; one directory per deployment. */
export function registryName(region: string): string {
  return `region:${region}`;
}
export const DIRECTORY_NAME = "directory";
