import {
  connectUnix,
  encodeFdTag,
  PROTOCOL_VERSION,
  type RialtoError,
  RpcPeer,
  SessionMethods,
  ShmPoolMethods,
} from "@rialto/protocol";
import { connectSideChannel, ShmPool, type SideChannelConnection } from "@rialto/shm";

/**
 * A client speaking the wire protocol by hand (no retry-RPC, no safety nets), to play a
 * misbehaving or hostile client: it registers with its own fd side channel and pool, then
 * sends whatever descriptors or raw bytes the test wants.
 */
export class RawSessionClient implements AsyncDisposable {
  readonly peer: RpcPeer;
  readonly side: SideChannelConnection;
  /** Notices and other complaints the server sent. */
  readonly notices: RialtoError[] = [];
  /** Resolves when the server closed the connection. */
  readonly closed: Promise<void>;
  #pool: ShmPool | undefined;

  private constructor(side: SideChannelConnection) {
    this.side = side;
    const closed = Promise.withResolvers<void>();
    this.closed = closed.promise;
    this.peer = new RpcPeer({
      name: "raw-client",
      onError: (error) => this.notices.push(error),
      onTransportClose: () => closed.resolve(),
    });
  }

  /** Connects to `socketPath` and its side channel, and registers. */
  static async connect(socketPath: string): Promise<RawSessionClient> {
    const client = new RawSessionClient(connectSideChannel(`${socketPath}.fd`));
    client.peer.attach(await connectUnix(socketPath));
    await client.peer.call(SessionMethods.register, {
      protocolVersion: PROTOCOL_VERSION,
      fdToken: client.side.token.toHex(),
    });
    return client;
  }

  /** Creates a pool of `size` bytes, passes its memfd and registers it; returns its id. */
  async registerPool(size = 8192): Promise<{ pool: ShmPool; poolId: number }> {
    this.#pool = ShmPool.create({ size, heartbeatIntervalMs: 0 });
    this.side.channel.sendFds([this.#pool.fd], encodeFdTag(9));
    const { poolId } = await this.peer.call(ShmPoolMethods.registerPool, { size, fdTag: 9 });
    return { pool: this.#pool, poolId };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.peer.close();
    this.side.channel.close();
    this.#pool?.close();
  }
}
