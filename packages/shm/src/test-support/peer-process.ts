import type { Subprocess } from "bun";
import { within } from "./deadline.ts";
import { AS_NOBODY } from "./os-probes.ts";

/** A command understood by `peer-main.ts`. */
export type PeerCommand =
  | { readonly op: "map" }
  | { readonly op: "read"; readonly offset: number; readonly length: number }
  | { readonly op: "write"; readonly offset: number; readonly text: string }
  | { readonly op: "truncate"; readonly size: number }
  | { readonly op: "create-and-send"; readonly size: number; readonly text: string }
  | {
      readonly op: "pool-answer";
      readonly offset: number;
      readonly length: number;
      readonly text: string;
    };

/** What `peer-main.ts` sends back: a result object, or an error description. */
export type PeerReply = Record<string, unknown> & {
  readonly error?: string;
  readonly errno?: string;
};

/** Options of {@link PeerProcess.spawn}. */
export interface PeerOptions {
  /** A socket fd given to the child as its fd 3 (its FdChannel). */
  readonly channelFd?: number;
  /** Run the child as `nobody` (requires root). */
  readonly asNobody?: boolean;
}

const PEER_MAIN = new URL("./peer-main.ts", import.meta.url).pathname;

/**
 * A child Bun process running `peer-main.ts`, driven over Bun's IPC channel. The IPC
 * messages are the notifications of the fd-passing pattern: a command arrives after the
 * record it refers to was sent on the side channel.
 */
export class PeerProcess implements AsyncDisposable {
  readonly #child: Subprocess;
  readonly #queue: PeerReply[] = [];
  #waiter: ((reply: PeerReply) => void) | undefined;

  private constructor(options: PeerOptions) {
    const stdio: ("inherit" | "ignore" | number)[] = ["ignore", "inherit", "inherit"];
    if (options.channelFd !== undefined) stdio.push(options.channelFd);
    const command = [
      process.execPath,
      PEER_MAIN,
      ...(options.channelFd === undefined ? [] : ["--fd3"]),
    ];
    this.#child = Bun.spawn({
      cmd: options.asNobody ? [...AS_NOBODY, ...command] : command,
      stdio: stdio as ["ignore", "inherit", "inherit"],
      env: { ...process.env, HOME: "/tmp" },
      ipc: (message: PeerReply) => {
        const waiter = this.#waiter;
        this.#waiter = undefined;
        if (waiter) waiter(message);
        else this.#queue.push(message);
      },
    });
  }

  /** Starts a peer and waits (with a deadline) until it reports ready; returns it and its uid. */
  static async spawn(options: PeerOptions = {}): Promise<{ peer: PeerProcess; uid: number }> {
    const peer = new PeerProcess(options);
    try {
      const ready = await peer.next();
      return { peer, uid: Number(ready.uid) };
    } catch (error) {
      await peer[Symbol.asyncDispose]();
      throw error;
    }
  }

  /** The child's exit code, once it has exited. */
  get exited(): Promise<number> {
    return this.#child.exited;
  }

  /** The next reply, or a rejection if the child exits or `ms` pass first. */
  next(ms = 5000): Promise<PeerReply> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    const { promise, resolve, reject } = Promise.withResolvers<PeerReply>();
    this.#waiter = resolve;
    this.#child.exited.then((code) => reject(new Error(`peer exited with code ${code}`)));
    return within(promise, "a reply from the peer process", ms).finally(() => {
      if (this.#waiter === resolve) this.#waiter = undefined;
    });
  }

  /** Sends a command and waits for its reply. */
  request(command: PeerCommand, ms = 5000): Promise<PeerReply> {
    this.#child.send(command);
    return this.next(ms);
  }

  /** Kills the child if it still runs and waits for it to exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill();
    await within(this.#child.exited, "the peer process to exit", 5000);
  }
}
