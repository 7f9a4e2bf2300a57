import * as protocol from "@rialto/protocol";
import * as protocolTesting from "@rialto/protocol/testing";
import * as shm from "@rialto/shm";
import type { CreateClientGateway } from "./client-gateway/index.ts";
import type * as ClientSessionsModule from "./clients/client-sessions.ts";

/**
 * The clients bundle: the session server's side of its clients (`src/clients/` with the media
 * engines, keys and web audio it uses) is built into a bundle of its own,
 * `dist/rialto-session-server-clients.js`, beside the session server's
 * (`scripts/build.ts`). The session server loads it when the first client connects: an app that
 * waits Inactive with no client never loads it, which takes about a fifth off a cold start and
 * 1.5 MiB off an idle session server (measured in BENCHMARKS.md, lifecycle).
 */
export const CLIENTS_BUNDLE_FILE = "rialto-session-server-clients.js";

/**
 * The packages the clients bundle takes from the session server's bundle rather than holding
 * copies of its own: one instance of each class (RialtoError, MethodRouter, ...) in the process.
 */
export const SHARED_PACKAGES = {
  "@rialto/protocol": protocol,
  "@rialto/protocol/testing": protocolTesting,
  "@rialto/shm": shm,
} as const;

/** Where the clients bundle finds {@link SHARED_PACKAGES} (a global registry, by name). */
export const SHARED_PACKAGES_KEY = Symbol.for("rialto.session-server.shared-packages");

/**
 * The build sets this in the session server's bundle to the clients bundle's path relative to it
 * (`./rialto-session-server-clients.js`); from the sources it is not defined.
 */
declare const RIALTO_CLIENTS_BUNDLE: string | undefined;

/**
 * The default client gateway's factory (the app's client sessions over retry-RPC), loaded on
 * first use: from the clients bundle when this runs as the session server's bundle, else from
 * the sources.
 */
export function loadClientSessions(): { create: CreateClientGateway; from: "bundle" | "sources" } {
  if (typeof RIALTO_CLIENTS_BUNDLE === "undefined") {
    const clients = require("./clients/client-sessions.ts") as typeof ClientSessionsModule;
    return { create: clients.createClientSessions, from: "sources" };
  }
  (globalThis as Record<symbol, unknown>)[SHARED_PACKAGES_KEY] = SHARED_PACKAGES;
  const clients = require(RIALTO_CLIENTS_BUNDLE) as typeof ClientSessionsModule;
  return { create: clients.createClientSessions, from: "bundle" };
}
