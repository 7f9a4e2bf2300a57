import {
  type ApplicationState,
  encodeJsonFrame,
  FrameType,
  type Resources,
  RialtoError,
  RpcPeer,
  SessionEvents,
  type SocketTransport,
  toRialtoError,
} from "@rialto/protocol";
import type { FdChannel } from "@rialto/shm";
import type { Logger } from "pino";
import type { AvMemory } from "../av-memory.ts";
import type { ClientListener } from "../client-listener.ts";
import type { ClientGateway, ClientGatewayOptions } from "./client-gateway.ts";
import { ClientIdAllocator, type ClientPeer, ClientSession } from "./client-session.ts";
import { peerUid } from "./peer-uid.ts";
import { createSessionRouter, type GatewayContext } from "./session-methods.ts";

/** Creates the minimal client gateway: one plain {@link RpcPeer} per connection. */
export function createClientGateway(options: ClientGatewayOptions): ClientGateway {
  return new RpcClientGateway(options);
}

/**
 * The minimal gateway: one RpcPeer per client connection, client state dropped when the
 * connection closes. The retry-RPC client sessions (reply cache, reconnect, grace period)
 * replace it behind {@link ClientGateway}.
 */
class RpcClientGateway implements ClientGateway, GatewayContext {
  readonly logger: Logger;
  readonly resources: Resources;
  applicationState: ApplicationState;
  readonly #options: ClientGatewayOptions;
  readonly #peers = new Set<ClientPeer>();
  readonly #ids = new ClientIdAllocator();
  readonly #router = createSessionRouter(this);
  #listener: ClientListener | undefined;

  constructor(options: ClientGatewayOptions) {
    this.#options = options;
    this.logger = options.logger;
    this.resources = options.resources;
    this.applicationState = options.applicationState;
  }

  get connectionCount(): number {
    return this.#peers.size;
  }

  start(listener: ClientListener): void {
    if (this.#listener !== undefined) {
      throw new RialtoError("INVALID_STATE", "client gateway already started");
    }
    this.#listener = listener;
    listener.onConnection((transport) => this.#accept(transport));
  }

  avMemory(): AvMemory | undefined {
    return this.#options.avMemory();
  }

  allocateClientId(): number {
    return this.#ids.allocate((id) => this.#findClient(id) !== undefined);
  }

  claimSideChannel(token: Uint8Array): FdChannel | undefined {
    return this.#listener?.claimSideChannel(token);
  }

  setApplicationState(state: ApplicationState): void {
    this.applicationState = state;
    for (const peer of this.#peers) {
      if (peer.data.clientId !== undefined) peer.emit(SessionEvents.applicationState, { state });
    }
  }

  releaseAllResources(): void {
    for (const peer of this.#peers) peer.data.holdsSharedMemory = false;
  }

  closeAll(): void {
    const cause = new RialtoError("CONNECTION_LOST", "the session server closed the connection");
    for (const peer of [...this.#peers]) this.#drop(peer, cause);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.closeAll();
  }

  #accept(transport: SocketTransport): void {
    const denied = this.#checkPeer(transport);
    if (denied !== undefined) {
      this.logger.warn({ reason: denied.message }, "client connection refused");
      transport.write(encodeJsonFrame(FrameType.Notice, { error: denied.toWire() }));
      transport.close(denied);
      return;
    }
    const peer: ClientPeer = new RpcPeer<ClientSession>({
      name: "session-server/client",
      router: this.#router,
      data: new ClientSession(),
      onError: (error) => this.logger.debug({ err: error }, "client sent something malformed"),
      onTransportClose: () => {
        this.logger.info({ clientId: peer.data.clientId }, "client disconnected");
        this.#drop(peer);
      },
    });
    this.#peers.add(peer);
    peer.attach(transport);
  }

  /** The reason to refuse this connection, if `allowedUids` excludes its peer. */
  #checkPeer(transport: SocketTransport): RialtoError | undefined {
    const allowed = this.#options.allowedUids;
    if (allowed === undefined) return undefined;
    let uid: number;
    try {
      uid = (this.#options.peerUid ?? peerUid)(transport.fd);
    } catch (error) {
      return new RialtoError(
        "PERMISSION_DENIED",
        `cannot check the client's uid: ${toRialtoError(error).message}`,
      );
    }
    if (allowed.includes(uid)) return undefined;
    return new RialtoError(
      "PERMISSION_DENIED",
      `uid ${uid} may not connect to this app's session server`,
    );
  }

  #drop(peer: ClientPeer, cause?: RialtoError): void {
    this.#peers.delete(peer);
    peer.data.close();
    peer.close(cause);
  }

  #findClient(id: number): ClientPeer | undefined {
    for (const peer of this.#peers) if (peer.data.clientId === id) return peer;
    return undefined;
  }
}
