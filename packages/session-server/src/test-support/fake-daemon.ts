import {
  type ControlAnnounceParams,
  ControlChannelMethods,
  listenUnix,
  MethodRouter,
  RialtoError,
  type RpcPeer,
  type UnixListener,
} from "@rialto/protocol";
import { AsyncQueue } from "./async-queue.ts";
import { FakeManager } from "./fake-manager.ts";

/** One session server that announced itself to the {@link FakeDaemon}. */
export interface Announced {
  params: ControlAnnounceParams;
  /** The daemon's end of that connection, which became the session server's control channel. */
  manager: FakeManager;
}

/**
 * The daemon's control socket as far as joined mode needs it: it answers `control/announce`
 * (or refuses it with `refuseWith`) and then plays the manager on the same connection.
 */
export class FakeDaemon implements AsyncDisposable {
  readonly announced = new AsyncQueue<Announced>();
  readonly #listener: UnixListener;
  readonly #managers: FakeManager[];

  private constructor(listener: UnixListener, managers: FakeManager[]) {
    this.#listener = listener;
    this.#managers = managers;
  }

  /** Listens at `path`; every announce is refused with `refuseWith` when given. */
  static async listen(path: string, refuseWith?: RialtoError): Promise<FakeDaemon> {
    const managers: FakeManager[] = [];
    let daemon: FakeDaemon | undefined;
    const listener = await listenUnix(path, (transport) => {
      let manager: FakeManager | undefined;
      const router = new MethodRouter<RpcPeer>().handle(
        ControlChannelMethods.announce,
        (params) => {
          if (refuseWith !== undefined) throw refuseWith;
          daemon?.announced.push({ params, manager: manager as FakeManager });
          return {};
        },
      );
      manager = new FakeManager(router);
      managers.push(manager);
      manager.peer.attach(transport);
    });
    daemon = new FakeDaemon(listener, managers);
    return daemon;
  }

  get path(): string {
    return this.#listener.path;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const manager of this.#managers) manager.peer.close();
    this.#listener.close();
  }
}

/** The refusal a real daemon sends for an app it already knows. */
export function appExists(appId: string): RialtoError {
  return new RialtoError("APP_EXISTS", `app "${appId}" already exists`);
}
