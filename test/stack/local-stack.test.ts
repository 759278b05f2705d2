/** The local stack's switches (`npm start`'s environment). */
import { describe, expect, it } from "vitest";
import { stackOptionsFromEnv } from "./local-stack.ts";

describe("stackOptionsFromEnv", () => {
  it("runs the edge under wrangler dev unless EDGE_RUNTIME says workerd", () => {
    expect(stackOptionsFromEnv({}).edgeRuntime).toBe("wrangler-dev");
    expect(stackOptionsFromEnv({ EDGE_RUNTIME: "" }).edgeRuntime).toBe("wrangler-dev");
    expect(stackOptionsFromEnv({ EDGE_RUNTIME: "workerd" }).edgeRuntime).toBe("workerd");
    expect(stackOptionsFromEnv({ EDGE_RUNTIME: "wrangler-dev" }).edgeRuntime).toBe("wrangler-dev");
  });

  it("lists a wrong EDGE_RUNTIME with the other problems", () => {
    expect(() => stackOptionsFromEnv({ EDGE_RUNTIME: "miniflare", EDGE_PORT: "0" })).toThrow(
      /EDGE_PORT must be a TCP port[\s\S]*EDGE_RUNTIME must be wrangler-dev or workerd \(got "miniflare"\)/,
    );
  });
});
