import {
  type ApplicationState,
  connectUnix,
  decodeFdTag,
  PROTOCOL_VERSION,
  type RegisterParams,
  type RegisterResult,
  type RialtoError,
  RpcPeer,
  SessionEvents,
  SessionMethods,
  type SharedMemoryInfo,
  sideChannelPath,
} from "@rialto/protocol";
import { connectSideChannel, SharedMemory, type SideChannelConnection } from "@rialto/shm";
import { AsyncQueue, WAIT_MS } from "./async-queue.ts";

/** Options of {@link TestClient.connect}. */
export interface TestClientOptions {
  /** Open the fd side channel next to the socket (default true). */
  sideChannel?: boolean;
}

/**
 * A bare client of a session server for tests: the RPC connection plus, by default, the fd side
 * channel, with the pushed application states and the connection's end observable.
 */
export class TestClient implements AsyncDisposable {
  readonly peer: RpcPeer;
  readonly sideChannel: SideChannelConnection | undefined;
  /** Every `session/applicationState` pushed, in order. */
  readonly states = new AsyncQueue<ApplicationState>();
  /** Notices and other non-fatal errors the server sent. */
  readonly errors = new AsyncQueue<RialtoError>();
  /** Resolves when the connection closed. */
  readonly closed: Promise<void>;
  /** The result of {@link registered}'s registration. */
  registration: RegisterResult | undefined;
  readonly #memories: SharedMemory[] = [];

  private constructor(sideChannel: SideChannelConnection | undefined) {
    this.sideChannel = sideChannel;
    const closed = Promise.withResolvers<void>();
    this.closed = closed.promise;
    this.peer = new RpcPeer({
      name: "test-client",
      timeoutMs: WAIT_MS,
      onError: (error) => this.errors.push(error),
      onTransportClose: () => closed.resolve(),
    });
    this.peer.on(SessionEvents.applicationState, ({ state }) => this.states.push(state));
  }

  /** Connects to the session server's client socket (and its side channel unless disabled). */
  static async connect(socketPath: string, options: TestClientOptions = {}): Promise<TestClient> {
    const side =
      (options.sideChannel ?? true) ? connectSideChannel(sideChannelPath(socketPath)) : undefined;
    const client = new TestClient(side);
    try {
      client.peer.attach(await connectUnix(socketPath));
    } catch (error) {
      side?.channel.close();
      throw error;
    }
    return client;
  }

  /**
   * Given a registered client: connected (with a side channel unless disabled), registered, and
   * the first `session/applicationState` push taken (it must match the register result).
   */
  static async registered(
    socketPath: string,
    options: TestClientOptions = {},
  ): Promise<TestClient> {
    const client = await TestClient.connect(socketPath, options);
    try {
      client.registration = await client.register();
      const pushed = await client.states.next("the first session/applicationState");
      if (pushed !== client.registration.applicationState) {
        throw new Error(
          `first push ${pushed} differs from ${client.registration.applicationState}`,
        );
      }
    } catch (error) {
      await client[Symbol.asyncDispose]();
      throw error;
    }
    return client;
  }

  /** Registers with this package's protocol version and the side channel's token. */
  register(overrides: Partial<RegisterParams> = {}): Promise<RegisterResult> {
    const fdToken = this.sideChannel?.token.toHex();
    return this.peer.call(SessionMethods.register, {
      protocolVersion: PROTOCOL_VERSION,
      ...(fdToken === undefined ? {} : { fdToken }),
      ...overrides,
    });
  }

  /** Calls `session/getSharedMemory`, takes the tagged memfd from the side channel and maps it. */
  async getSharedMemory(): Promise<{ info: SharedMemoryInfo; memory: SharedMemory }> {
    const info = await this.peer.call(SessionMethods.getSharedMemory, {});
    const record = this.sideChannel?.channel.receive();
    if (record === undefined) throw new Error("no side-channel record arrived with the reply");
    if (decodeFdTag(record.data) !== info.fdTag || record.fds.length !== 1) {
      throw new Error(`side-channel record does not match fdTag ${info.fdTag}`);
    }
    const memory = SharedMemory.fromFd(record.fds[0] as number, { expectedSize: info.size });
    this.#memories.push(memory);
    return { info, memory };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.peer.close();
    this.sideChannel?.channel.close();
    for (const memory of this.#memories) memory.close();
  }
}
