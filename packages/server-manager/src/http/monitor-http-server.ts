import { readFileSync } from "node:fs";
import { APP_ID_PATTERN, type MonitorMessage, toRialtoError } from "@rialto/protocol";
import pino, { type Logger } from "pino";
import type { ServerManager } from "../server-manager.ts";
import { appViews } from "./app-view.ts";
import { bearerToken, tokenMatches } from "./control-token.ts";
import type { HttpAddress } from "./http-address.ts";
import { isLoopback } from "./http-address.ts";
import { ManagerMetrics } from "./manager-metrics.ts";
import { ProcessSampler } from "./process-usage.ts";
import { type SseClient, SseHub } from "./sse-hub.ts";

/** Options of {@link startMonitorHttp}. */
export interface MonitorHttpOptions extends HttpAddress {
  /** With a token, `POST /api/apps/<app>/<action>` changes apps (`--http-control`). */
  controlToken?: string;
  /** SSE clients at once (default 16). */
  maxSseClients?: number;
  /** Bytes queued for one slow SSE client before it is dropped (default 256 KiB). */
  maxSseBufferedBytes?: number;
  /** Period of the `apps` SSE event while clients are connected, ms (default 1000). */
  appsIntervalMs?: number;
  /** Default: pino at level warn on stderr. */
  logger?: Logger;
}

/** A running web monitor. */
export interface MonitorHttp extends AsyncDisposable {
  /** `http://host:port/` with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** SSE clients connected now. */
  readonly sseClients: number;
  /** Stops listening, ends every SSE stream and unsubscribes from the manager. */
  close(): Promise<void>;
}

const PAGE_DIR = new URL("./page/", import.meta.url);
const PAGE_FILES: Record<string, string> = {
  "/": "index.html",
  "/monitor.js": "monitor.js",
  "/monitor.css": "monitor.css",
};
const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};
/** Sent with every answer: no caching, no sniffing, no framing, and no CORS header at all. */
const SECURITY_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
};
const ACTIONS = new Set(["start", "activate", "deactivate", "stop"]);
const APP_ID = new RegExp(APP_ID_PATTERN);

/**
 * The web monitor (`--http`): `/metrics` (Prometheus text, prom-client), `/api/apps`
 * (`listApplications()` with RSS, CPU and the last media report), `/api/events` (the monitor
 * stream of SPEC 4 as server-sent events: state list first, then events; plus an `apps` event
 * every `appsIntervalMs`), `/` (the page), and with a control token the start / activate /
 * deactivate / stop actions. Requests whose Host header is not the monitor's own address are
 * refused when it listens on loopback (a web page elsewhere cannot reach it by DNS rebinding).
 */
export function startMonitorHttp(manager: ServerManager, options: MonitorHttpOptions): MonitorHttp {
  const logger = options.logger ?? pino({ name: "rialto-monitor-http", level: "warn" });
  const processes = new ProcessSampler();
  const hub = new SseHub({
    maxClients: options.maxSseClients ?? 16,
    maxBufferedBytes: options.maxSseBufferedBytes ?? 256 * 1024,
  });
  const metrics = new ManagerMetrics(manager, processes, {
    get sseClients() {
      return hub.size;
    },
    get sseDropped() {
      return hub.dropped;
    },
  });
  const page = new Map<string, { body: string; type: string }>();
  for (const [path, file] of Object.entries(PAGE_FILES)) {
    const extension = file.slice(file.lastIndexOf(".") + 1);
    page.set(path, {
      body: readFileSync(new URL(file, PAGE_DIR), "utf8"),
      type: CONTENT_TYPES[extension] ?? "text/plain",
    });
  }
  const control = options.controlToken;
  let appsTimer: ReturnType<typeof setInterval> | undefined;
  const pushApps = () => hub.broadcast("apps", appsBody());
  const appsBody = () => ({ apps: appViews(manager, processes), control: control !== undefined });
  const sseOpened = () => {
    appsTimer ??= setInterval(pushApps, options.appsIntervalMs ?? 1000);
  };
  const sseClosed = () => {
    if (hub.size === 0 && appsTimer !== undefined) {
      clearInterval(appsTimer);
      appsTimer = undefined;
    }
  };

  const events = (request: Request, server: Bun.Server<undefined>): Response => {
    let monitor: ReturnType<ServerManager["addMonitor"]> | undefined;
    const stream = hub.open(
      (client: SseClient) => {
        client.send("apps", appsBody());
        monitor = manager.addMonitor((message: MonitorMessage) => client.send("monitor", message));
        sseOpened();
      },
      () => {
        monitor?.close();
        sseClosed();
      },
    );
    if (stream === undefined) return text(503, "too many event-stream clients\n");
    server.timeout(request, 0);
    return new Response(stream, {
      headers: { ...SECURITY_HEADERS, "Content-Type": "text/event-stream" },
    });
  };

  const act = async (request: Request, appId: string, action: string): Promise<Response> => {
    if (control === undefined)
      return text(403, "read-only monitor (start it with --http-control)\n");
    if (!tokenMatches(control, bearerToken(request.headers.get("authorization")))) {
      return text(401, "missing or wrong token\n");
    }
    if (!APP_ID.test(appId) || !ACTIONS.has(action)) return text(404, "no such action\n");
    try {
      if (action === "start") await manager.initiateApplication(appId, "Inactive");
      else if (action === "activate") await manager.changeSessionServerState(appId, "Active");
      else if (action === "deactivate") await manager.changeSessionServerState(appId, "Inactive");
      else await manager.changeSessionServerState(appId, "NotRunning");
    } catch (error) {
      const failure = toRialtoError(error);
      return json(409, { error: { code: failure.code, message: failure.message } });
    }
    logger.info({ appId, action }, "http control action");
    return json(200, { appId, action });
  };

  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    development: false,
    fetch: async (request, server) => {
      const url = new URL(request.url);
      const host = request.headers.get("host");
      if (isLoopback(options.hostname) && !hostAllowed(host, options.hostname, server.port)) {
        return text(421, "wrong Host header\n");
      }
      const action = /^\/api\/apps\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
      if (action !== null) {
        if (request.method !== "POST") return text(405, "use POST\n");
        return act(request, decodeURIComponent(action[1] ?? ""), action[2] ?? "");
      }
      if (request.method !== "GET" && request.method !== "HEAD") return text(405, "use GET\n");
      const file = page.get(url.pathname);
      if (file !== undefined) {
        return new Response(file.body, {
          headers: { ...SECURITY_HEADERS, "Content-Type": file.type },
        });
      }
      switch (url.pathname) {
        case "/metrics": {
          const { body, contentType } = await metrics.render();
          return new Response(body, {
            headers: { ...SECURITY_HEADERS, "Content-Type": contentType },
          });
        }
        case "/api/apps":
          return json(200, appsBody());
        case "/api/events":
          return events(request, server);
        default:
          return text(404, "not found\n");
      }
    },
    error: (error) => {
      logger.error({ err: error }, "http monitor request failed");
      return text(500, "internal error\n");
    },
  });
  const port = server.port ?? options.port;
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      clearInterval(appsTimer);
      hub.closeAll();
      metrics[Symbol.dispose]();
      await server.stop(true);
    })();
    return closed;
  };
  return {
    url: `http://${host}:${port}/`,
    port,
    get sseClients() {
      return hub.size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Loopback monitors answer only to their own address (no DNS rebinding). */
function hostAllowed(host: string | null, bound: string, port: number | undefined): boolean {
  if (host === null) return false;
  const names = ["localhost", bound.includes(":") ? `[${bound}]` : bound];
  return names.some((name) => host === `${name}:${port}` || host === name);
}

function text(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" },
  });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "application/json" },
  });
}
