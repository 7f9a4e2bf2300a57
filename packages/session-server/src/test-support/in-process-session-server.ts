import { rmSync } from "node:fs";
import { join } from "node:path";
import { createMemoryTransportPair, type SetConfigurationParams } from "@rialto/protocol";
import pino from "pino";
import {
  type RunningSessionServer,
  type RunSessionServerOptions,
  runSessionServer,
} from "../run-session-server.ts";
import { FakeManager, testConfiguration } from "./fake-manager.ts";
import { makeSocketDir } from "./session-server-process.ts";

/**
 * A session server running inside the test process, its control channel an in-memory transport
 * pair, for the branches a real process cannot be pushed into (an OS boundary that fails) and
 * for fast client-gateway tests. Its client socket is still a real Unix socket.
 */
export class InProcessSessionServer implements AsyncDisposable {
  readonly running: RunningSessionServer;
  readonly manager: FakeManager;
  readonly dir: string;
  readonly socketPath: string;

  private constructor(running: RunningSessionServer, manager: FakeManager, dir: string) {
    this.running = running;
    this.manager = manager;
    this.dir = dir;
    this.socketPath = join(dir, "app.sock");
  }

  /** Starts one (log lines discarded); `options` may inject the OS boundaries. */
  static async start(
    options: Omit<RunSessionServerOptions, "control" | "logger"> = {},
  ): Promise<InProcessSessionServer> {
    const dir = makeSocketDir();
    const [managerEnd, serverEnd] = createMemoryTransportPair();
    const manager = new FakeManager();
    manager.peer.attach(managerEnd);
    const running = await runSessionServer({
      ...options,
      control: { kind: "transport", transport: serverEnd },
      // Configuration sets a level, so "silent" would not stay silent: discard the lines instead.
      logger: pino({}, { write() {} }),
    });
    return new InProcessSessionServer(running, manager, dir);
  }

  /** Given an in-process session server configured with `overrides`, in its target state. */
  static async configured(
    overrides: Partial<SetConfigurationParams> = {},
    options: Omit<RunSessionServerOptions, "control" | "logger"> = {},
  ): Promise<InProcessSessionServer> {
    const server = await InProcessSessionServer.start(options);
    try {
      await server.manager.expectState("Uninitialised");
      await server.manager.configure(server.configuration(overrides));
      await server.manager.expectState(overrides.targetState ?? "Inactive");
    } catch (error) {
      await server[Symbol.asyncDispose]();
      throw error;
    }
    return server;
  }

  /** SetConfiguration with the test defaults (socket in {@link dir}) plus `overrides`. */
  configuration(overrides: Partial<SetConfigurationParams> = {}): SetConfigurationParams {
    return testConfiguration(this.socketPath, overrides);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.manager.peer.close();
    await this.running.stop(0, "test finished");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
