import { RialtoClient, type RialtoClientOptions } from "@rialto/client";
import type { SetConfigurationParams } from "@rialto/protocol";
import { type LogLine, SessionServerProcess } from "@rialto/session-server/testing";

/**
 * A real session server process (`bun main.ts` with its control channel on fd 3) that this test
 * plays the manager of, with every log line it writes observable: for end-to-end tests whose
 * proof is in the server's own account (a web-audio checksum, resources released). Disposing
 * closes its clients, then kills the process by pid if it still runs and removes its temp dir.
 */
export class LoggedSessionServer implements AsyncDisposable {
  readonly process: SessionServerProcess;
  readonly #clients: RialtoClient[] = [];

  private constructor(process: SessionServerProcess) {
    this.process = process;
  }

  /** Given a session server configured with `overrides` (Active unless told), in that state. */
  static async start(
    overrides: Partial<SetConfigurationParams> = {},
  ): Promise<LoggedSessionServer> {
    return new LoggedSessionServer(
      await SessionServerProcess.configured({ targetState: "Active", ...overrides }),
    );
  }

  /** The app's client socket. */
  get socketPath(): string {
    return this.process.socketPath;
  }

  /** Connects a client (closed on dispose). */
  async connect(options: RialtoClientOptions = {}): Promise<RialtoClient> {
    const client = await RialtoClient.connect({ socketPath: this.socketPath, ...options });
    this.#clients.push(client);
    return client;
  }

  /** Sends SetState and waits for the state to be reported. */
  async setState(state: "Active" | "Inactive"): Promise<void> {
    await this.process.manager.setState(state);
    await this.process.manager.expectState(state);
  }

  /** The next log line with message `msg` that `matches` (earlier lines are passed over). */
  logLine(msg: string, matches: (line: LogLine) => boolean = () => true): Promise<LogLine> {
    return this.process.logs.waitFor((line) => line.msg === msg && matches(line), `log "${msg}"`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const client of this.#clients) await client.close();
    await this.process[Symbol.asyncDispose]();
  }
}
