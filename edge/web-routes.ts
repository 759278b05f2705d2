/**
 * The browser's routes: the softphone and dashboard pages with their assets (built from edge/web/ into
 * web-assets.generated.ts), the softphone's call creation and its media WebSocket.
 *
 * The pages and assets hold no data and no secret, so they are served to anyone; everything they show
 * comes from the admin API, which they call with the admin token the user types in (see
 * edge/web/admin-session.ts). Every page carries a strict Content-Security-Policy: scripts, styles and
 * connections from this origin only, no inline code, no framing, and Trusted Types so that no HTML is
 * ever parsed from strings.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { describeError, errorCode } from "../shared/errors.ts";
import type { Logger } from "../shared/log.ts";
import type { EdgeConfig } from "./config.ts";
import { DIRECTORY_NAME, type EdgeEnv } from "./env.ts";
import {
  checkSoftphoneUpgrade,
  createSoftphoneCall,
  SOFTPHONE_SUBPROTOCOL,
  streamTokenFromSubprotocols,
} from "./softphone.ts";
import { WEB_ASSETS } from "./web-assets.generated.ts";

type AppEnv = { Bindings: EdgeEnv };

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const COMMON_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
} as const;

/** The pages, by route; the microphone is allowed on the softphone only. */
const PAGES = {
  "/phone": { asset: "phone.html", microphone: true },
  "/dashboard": { asset: "dashboard.html", microphone: false },
} as const;

/** Assets under /assets/{name}: everything built except the pages themselves. */
export const ASSET_NAMES: readonly string[] = Object.keys(WEB_ASSETS).filter(
  (name) => !name.endsWith(".html"),
);

function asset(name: string) {
  const found = WEB_ASSETS[name];
  if (!found) throw new Error(`web asset ${name} is missing from web-assets.generated.ts`);
  return found;
}

export interface WebRouteDeps {
  config: EdgeConfig;
  log: Logger;
  adminOnly: MiddlewareHandler<AppEnv>;
}

export function registerWebRoutes(app: Hono<AppEnv>, deps: WebRouteDeps): void {
  const { config, log } = deps;

  for (const [path, page] of Object.entries(PAGES)) {
    const { body, contentType } = asset(page.asset);
    app.get(
      path,
      () =>
        new Response(body, {
          headers: {
            ...COMMON_HEADERS,
            "Content-Type": contentType,
            "Content-Security-Policy": PAGE_CSP,
            "Cache-Control": "no-store",
            "Cross-Origin-Opener-Policy": "same-origin",
            "X-Frame-Options": "DENY",
            "Permissions-Policy": `microphone=${page.microphone ? "(self)" : "()"}, camera=(), geolocation=()`,
          },
        }),
    );
  }

  // Browsers ask for it on every page; there is none.
  app.get(
    "/favicon.ico",
    () => new Response(null, { status: 204, headers: { "Cache-Control": "max-age=86400" } }),
  );

  app.get("/assets/:name", (c) => {
    const name = c.req.param("name");
    if (!ASSET_NAMES.includes(name)) return c.text("not found", 404);
    const { body, contentType } = asset(name);
    return new Response(body, {
      headers: { ...COMMON_HEADERS, "Content-Type": contentType, "Cache-Control": "no-cache" },
    });
  });

  app.post("/phone/calls", deps.adminOnly, async (c) => {
    const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
    const call = await createSoftphoneCall({ env: c.env, config, log, waitUntil });
    if (!call) return c.json({ error: "bridge_unavailable" }, 503);
    return c.json(call, 201, { "Cache-Control": "no-store" });
  });

  app.get("/phone/media/:callSid", async (c) => {
    const callSid = c.req.param("callSid");
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket")
      return c.text("expected a WebSocket upgrade", 426);
    const token = streamTokenFromSubprotocols(c.req.header("Sec-WebSocket-Protocol") ?? null);
    try {
      await checkSoftphoneUpgrade(config.bridgeSecret, callSid, token, Date.now());
    } catch (error) {
      log.warn("softphone stream refused", { code: errorCode(error), reason: describeError(error) });
      const directory = c.env.CALL_DIRECTORY.get(c.env.CALL_DIRECTORY.idFromName(DIRECTORY_NAME));
      c.executionCtx.waitUntil(directory.countRejection("bad_stream_token").catch(() => undefined));
      return c.text("stream refused", 403);
    }
    const session = c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(callSid));
    const response = await session.fetch(c.req.raw);
    if (response.status !== 101 || !response.webSocket) return response;
    // The browser offered [our protocol, token]: the handshake must select one of them, ours.
    return new Response(null, {
      status: 101,
      webSocket: response.webSocket,
      headers: { "Sec-WebSocket-Protocol": SOFTPHONE_SUBPROTOCOL },
    });
  });
}
