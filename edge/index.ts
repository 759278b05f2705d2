/**
 * The edge Worker: Twilio's webhooks and media WebSocket in, calls handed to their Durable Object.
 * Routes only; configuration is parsed once, when the Worker starts, and a bad one stops it with the
 * list of problems.
 */
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { describeError, errorCode } from "../shared/errors.ts";
import { Logger } from "../shared/log.ts";
import { isAdminAuthorized } from "./admin-auth.ts";
import { answerCall } from "./call-answer.ts";
import { MAX_LIST } from "./call-directory.ts";
import { STREAM_EVENTS } from "./call-session.ts";
import { TWILIO_CALL_STATUSES } from "./call-state.ts";
import { parseEdgeConfig } from "./config.ts";
import { DIRECTORY_NAME, type EdgeEnv } from "./env.ts";
import { renderApology } from "./twiml.ts";
import { registerWebRoutes } from "./web-routes.ts";
import { CALL_SID, firstParam, isSignedUpgrade, readSignedForm } from "./webhooks.ts";

export { BridgeRegistry } from "./bridge-registry.ts";
export { CallDirectory } from "./call-directory.ts";
export { CallSession } from "./call-session.ts";

const config = parseEdgeConfig(env);
const log = new Logger({ component: "edge" }, { level: config.logLevel });

type AppEnv = { Bindings: EdgeEnv };
const app = new Hono<AppEnv>();

const directory = (bindings: EdgeEnv) =>
  bindings.CALL_DIRECTORY.get(bindings.CALL_DIRECTORY.idFromName(DIRECTORY_NAME));
const session = (bindings: EdgeEnv, callSid: string) =>
  bindings.CALL_SESSION.get(bindings.CALL_SESSION.idFromName(callSid));
const twiml = (body: string) =>
  new Response(body, { headers: { "content-type": "text/xml; charset=utf-8" } });

function rejectUnsigned(
  bindings: EdgeEnv,
  waitUntil: (p: Promise<unknown>) => void,
  route: string,
  reason: string,
) {
  log.warn("request refused", { code: "bad_signature", route, reason });
  waitUntil(
    directory(bindings)
      .countRejection("bad_signature")
      .catch(() => undefined),
  );
  return new Response("invalid signature", { status: 403 });
}

app.get("/healthz", (c) => c.json({ ok: true, region: config.bridgeRegion, bridges: config.bridges.length }));

app.post("/voice", async (c) => {
  const form = await readSignedForm(c.req.raw, config);
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  if (!form.valid) return rejectUnsigned(c.env, waitUntil, "/voice", form.reason);
  try {
    return twiml(await answerCall({ env: c.env, config, log, waitUntil }, form.params));
  } catch (error) {
    log.error("voice webhook failed: apologising", { code: errorCode(error), error: describeError(error) });
    return twiml(renderApology());
  }
});

app.get("/media/:callSid", async (c) => {
  const callSid = c.req.param("callSid");
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket")
    return c.text("expected a WebSocket upgrade", 426);
  if (!(await isSignedUpgrade(c.req.raw, config))) {
    return rejectUnsigned(c.env, (p) => c.executionCtx.waitUntil(p), "/media", "signature does not match");
  }
  if (!CALL_SID.test(callSid)) return c.text("unknown call", 404);
  return session(c.env, callSid).fetch(c.req.raw);
});

app.post("/status", async (c) => {
  const form = await readSignedForm(c.req.raw, config);
  if (!form.valid) return rejectUnsigned(c.env, (p) => c.executionCtx.waitUntil(p), "/status", form.reason);
  const callSid = firstParam(form.params, "CallSid") ?? "";
  const reported = TWILIO_CALL_STATUSES.find((status) => status === firstParam(form.params, "CallStatus"));
  if (!CALL_SID.test(callSid) || !reported) return c.text("CallSid or CallStatus missing or malformed", 400);
  const result = await session(c.env, callSid).applyStatusCallback(reported, Date.now());
  if (!result) return c.text("unknown call", 404);
  return c.body(null, 204);
});

app.post("/stream-status", async (c) => {
  const form = await readSignedForm(c.req.raw, config);
  if (!form.valid)
    return rejectUnsigned(c.env, (p) => c.executionCtx.waitUntil(p), "/stream-status", form.reason);
  const callSid = firstParam(form.params, "CallSid") ?? "";
  const event = STREAM_EVENTS.find((name) => name === firstParam(form.params, "StreamEvent"));
  if (!CALL_SID.test(callSid) || !event) return c.text("CallSid or StreamEvent missing or malformed", 400);
  const detail = [firstParam(form.params, "StreamSid"), firstParam(form.params, "StreamError")]
    .filter((part) => part !== null && part !== "")
    .join(" ")
    .slice(0, 1024);
  const found = await session(c.env, callSid).recordStreamStatus(event, detail, Date.now());
  if (!found) return c.text("unknown call", 404);
  return c.body(null, 204);
});

const adminOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!(await isAdminAuthorized(c.req.header("Authorization"), config.adminToken))) {
    return c.text("unauthorized", 401, { "WWW-Authenticate": "Bearer" });
  }
  await next();
});
app.use("/calls", adminOnly);
app.use("/calls/*", adminOnly);
// The softphone and dashboard pages, their assets, POST /phone/calls and the softphone's media socket.
registerWebRoutes(app, { config, log, adminOnly });

app.get("/calls", async (c) => {
  const limit = Number(c.req.query("limit") ?? "50");
  const store = directory(c.env);
  const [calls, rejected] = await Promise.all([
    store.list(Number.isFinite(limit) ? limit : 50),
    store.rejections(),
  ]);
  return c.json({ calls, rejected, maxLimit: MAX_LIST });
});

app.get("/calls/:callSid", async (c) => {
  const callSid = c.req.param("callSid");
  if (!CALL_SID.test(callSid)) return c.json({ error: "call_not_found" }, 404);
  const record = await session(c.env, callSid).getRecord();
  if (!record) return c.json({ error: "call_not_found" }, 404);
  return c.json(record);
});

app.onError((error, c) => {
  log.error("request failed", { route: c.req.path, code: errorCode(error), error: describeError(error) });
  if (c.req.path === "/voice") return twiml(renderApology());
  return c.json({ error: errorCode(error) }, 500);
});

export default app satisfies ExportedHandler<EdgeEnv>;
