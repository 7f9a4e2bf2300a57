import {
  ControlChannelEvents,
  ControlChannelMethods,
  createMemoryTransportPair,
  MethodRouter,
  RialtoError,
  RpcPeer,
  type SessionServerState,
  type SetConfigurationParams,
} from "@rialto/protocol";
import type {
  ExitInfo,
  LaunchedSessionServer,
  SessionServerLauncher,
  SpawnOptions,
} from "../session-server-handle.ts";

/** How a fake session server misbehaves; by default it behaves like the real one. */
export interface FakeBehaviour {
  /** Never sends its first message (the manager's READY timer fires). */
  readonly silent?: boolean;
  /** Its first message reports this state instead of `Uninitialised`. */
  readonly firstState?: SessionServerState;
  /** Refuses SetConfiguration with INVALID_ARGUMENT. */
  readonly refuseConfiguration?: boolean;
  /** Accepts SetConfiguration, then reports Error instead of the target state. */
  readonly failConfiguration?: boolean;
  /** Refuses SetState(Inactive|Active) with INTERNAL. */
  readonly refuseStateChanges?: boolean;
  /** Accepts SetState(Inactive|Active) and never reports the new state. */
  readonly stallStateChanges?: boolean;
  /** Reports NotRunning for a `control/park` it takes before its answer goes out. */
  readonly parkReportsFirst?: boolean;
  /** Survives SIGTERM (only SIGKILL ends it). */
  readonly ignoreSigterm?: boolean;
}

// Above any kernel's pid_max (2^22): a fake's pid never names a real process.
const FAKE_PID_BASE = 1_000_000_000;

/**
 * An in-memory session server for the manager's unit tests: it speaks the control channel
 * (SPEC 3) over a memory transport as the real one does: first message `Uninitialised`,
 * SetConfiguration then the target state, SetState then the new state (the same state again is
 * INVALID_STATE), NotRunning then exit 0, `control/park` taken when Inactive and not
 * {@link inUse}, pings answered, SIGTERM and SIGKILL end it. A test makes it crash, hang, break
 * its channel or report Error, or sets a {@link FakeBehaviour}.
 */
export class FakeSessionServer {
  readonly pid: number;
  readonly spawnOptions: SpawnOptions;
  readonly behaviour: FakeBehaviour;
  /** The state it last reported. */
  state: SessionServerState | undefined;
  /** SetConfiguration's params, once received. */
  configuration: SetConfigurationParams | undefined;
  /** Wire names of the calls it received, in order. */
  readonly calls: string[] = [];
  /** Signals it was sent, in order. */
  readonly signals: string[] = [];
  /**
   * A client the manager has not heard of yet holds it: `control/park` is refused. Clients are
   * otherwise the manager's to learn from stats reports, which a fake does not send.
   */
  inUse = false;
  /** The listening sockets the manager passed it. */
  readonly passedSockets: number[] = [];
  /** What the manager starts it with. */
  readonly launched: LaunchedSessionServer;
  readonly #peer: RpcPeer<unknown>;
  readonly #exit = Promise.withResolvers<ExitInfo>();
  #exited = false;
  #hung = false;

  constructor(pid: number, spawnOptions: SpawnOptions, behaviour: FakeBehaviour) {
    this.pid = pid;
    this.spawnOptions = spawnOptions;
    this.behaviour = behaviour;
    const [managerEnd, serverEnd] = createMemoryTransportPair();
    this.#peer = new RpcPeer({ name: `fake session server ${pid}`, router: this.#router() });
    this.#peer.attach(serverEnd);
    this.launched = {
      process: {
        pid,
        exited: this.#exit.promise,
        signal: (signal) => this.#signal(signal),
      },
      controlChannel: Promise.resolve(managerEnd),
      sockets: { sendFds: (fds) => this.passedSockets.push(...fds), close: () => {} },
    };
    // The first message, once the manager has attached its end (after this call returns).
    if (!behaviour.silent) setTimeout(() => this.#report(behaviour.firstState ?? "Uninitialised"));
  }

  /** Whether it still runs. */
  get running(): boolean {
    return !this.#exited;
  }

  /** Resolves when it is gone. */
  get exited(): Promise<ExitInfo> {
    return this.#exit.promise;
  }

  /** Dies on its own with `exitCode` (a crash when the manager did not ask for it). */
  crash(exitCode = 1): void {
    this.#end({ exitCode, signal: null });
  }

  /** Stops answering pings (its event loop is wedged, as far as the manager can tell). */
  hang(): void {
    this.#hung = true;
  }

  /** Closes its control channel and keeps running. */
  breakChannel(): void {
    this.#peer.close(new RialtoError("CONNECTION_LOST", "fake: channel broken"));
  }

  /** Reports Error on its own (a fault it cannot recover from). */
  reportError(reason: string): void {
    this.#report("Error", reason);
  }

  #router(): MethodRouter<RpcPeer<unknown>> {
    return new MethodRouter<RpcPeer<unknown>>()
      .handle(ControlChannelMethods.setConfiguration, (params) => {
        this.calls.push(ControlChannelMethods.setConfiguration.name);
        if (this.behaviour.refuseConfiguration) {
          throw new RialtoError("INVALID_ARGUMENT", "fake: configuration refused");
        }
        if (this.configuration !== undefined) {
          throw new RialtoError("INVALID_STATE", "fake: already configured");
        }
        this.configuration = params;
        this.#later(() =>
          this.behaviour.failConfiguration
            ? this.#report("Error", "fake: configuration failed")
            : this.#report(params.targetState),
        );
        return {};
      })
      .handle(ControlChannelMethods.setState, ({ state }) => {
        this.calls.push(`${ControlChannelMethods.setState.name} ${state}`);
        if (this.configuration === undefined || state === this.state) {
          throw new RialtoError("INVALID_STATE", `fake: ${this.state} → ${state}`);
        }
        if (state === "NotRunning") {
          this.#later(() => {
            this.#report("NotRunning");
            this.#end({ exitCode: 0, signal: null });
          });
          return {};
        }
        if (this.behaviour.refuseStateChanges) {
          throw new RialtoError("INTERNAL", "fake: state change refused");
        }
        if (!this.behaviour.stallStateChanges) this.#later(() => this.#report(state));
        return {};
      })
      .handle(ControlChannelMethods.setLogLevel, ({ level }) => {
        this.calls.push(`${ControlChannelMethods.setLogLevel.name} ${level}`);
        return {};
      })
      .handle(ControlChannelMethods.park, () => {
        this.calls.push(ControlChannelMethods.park.name);
        if (this.state !== "Inactive") return { parked: false, reason: `fake: ${this.state}` };
        if (this.inUse) return { parked: false, reason: "fake: in use" };
        if (this.behaviour.parkReportsFirst) this.#report("NotRunning");
        this.#later(() => {
          if (!this.behaviour.parkReportsFirst) this.#report("NotRunning");
          this.#end({ exitCode: 0, signal: null });
        });
        return { parked: true };
      })
      .handle(ControlChannelMethods.ping, ({ id }) => {
        if (this.#hung) return new Promise<never>(() => {});
        return { id, ok: true };
      });
  }

  /** After the reply to the current call has gone out, as the real session server reports. */
  #later(report: () => void): void {
    setTimeout(() => {
      if (!this.#exited) report();
    });
  }

  #report(state: SessionServerState, reason?: string): void {
    this.state = state;
    this.#peer.emit(
      ControlChannelEvents.stateChanged,
      reason === undefined ? { state } : { state, reason },
    );
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exited) return;
    this.signals.push(signal);
    if (signal === "SIGTERM" && this.behaviour.ignoreSigterm) return;
    this.#end({ exitCode: null, signal });
  }

  #end(exit: ExitInfo): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#peer.close(new RialtoError("CONNECTION_LOST", `fake session server ${this.pid} exited`));
    this.#exit.resolve(exit);
  }
}

/**
 * Starts {@link FakeSessionServer}s for a `ServerManager` (`launchSessionServer: fakes.launch`):
 * each launch takes the next queued behaviour (default well-behaved); `failNextLaunch` makes the
 * next launch throw SPAWN_FAILED.
 */
export class FakeSessionServers {
  /** Every fake started, in order. */
  readonly started: FakeSessionServer[] = [];
  /** Behaviours of the next launches, in order. */
  readonly next: FakeBehaviour[] = [];
  failNextLaunch = false;

  readonly launch: SessionServerLauncher = (options) => {
    if (this.failNextLaunch) {
      this.failNextLaunch = false;
      throw new RialtoError("SPAWN_FAILED", "fake: the session server cannot be started");
    }
    const fake = new FakeSessionServer(
      FAKE_PID_BASE + this.started.length,
      options,
      this.next.shift() ?? {},
    );
    this.started.push(fake);
    return fake.launched;
  };

  /** The latest fake started. */
  get latest(): FakeSessionServer {
    const fake = this.started.at(-1);
    if (fake === undefined) throw new Error("no fake session server was started");
    return fake;
  }
}
