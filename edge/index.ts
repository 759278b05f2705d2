import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

export interface Env {
  CALL_SESSION: DurableObjectNamespace<CallSession>;
}

const app = new Hono<{ Bindings: Env }>();
app.get("/healthz", (c) => c.json({ ok: true }));

export class CallSession extends DurableObject<Env> {}

export default app satisfies ExportedHandler<Env>;
