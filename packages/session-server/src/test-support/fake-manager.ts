import {
  ControlChannelEvents,
  ControlChannelMethods,
  DEFAULT_PLAYBACK_OPTIONS,
  DEFAULT_RESOURCES,
  type MethodRouter,
  type RequestedState,
  RpcPeer,
  type SessionServerState,
  type SetConfigurationParams,
  type StateChangedEvent,
} from "@rialto/protocol";
import { AsyncQueue, WAIT_MS } from "./async-queue.ts";

/** A SetConfiguration for the test app with the defaults a manager would resolve. */
export function testConfiguration(
  socketPath: string,
  overrides: Partial<SetConfigurationParams> = {},
): SetConfigurationParams {
  return {
    appId: "test-app",
    socketPath,
    socketPermissions: 0o660,
    targetState: "Inactive",
    resources: { ...DEFAULT_RESOURCES },
    logLevel: "info",
    playback: { ...DEFAULT_PLAYBACK_OPTIONS },
    ...overrides,
  };
}

/**
 * The server manager's end of one control channel, as a test plays it: typed calls to the
 * session server and every `control/stateChanged` it reports, in order.
 */
export class FakeManager implements AsyncDisposable {
  readonly peer: RpcPeer;
  /** Every `control/stateChanged` received, in order. */
  readonly states = new AsyncQueue<StateChangedEvent>();

  /** `router` serves what the session server calls (joined mode: `control/announce`). */
  constructor(router?: MethodRouter<RpcPeer>) {
    this.peer = new RpcPeer({ name: "test-manager", timeoutMs: WAIT_MS, router });
    this.peer.on(ControlChannelEvents.stateChanged, (event) => this.states.push(event));
  }

  /** The next `control/stateChanged` (with a deadline). */
  nextState(): Promise<StateChangedEvent> {
    return this.states.next("control/stateChanged");
  }

  /** Takes the next state change and checks it is `state`; returns the event. */
  async expectState(state: SessionServerState): Promise<StateChangedEvent> {
    const event = await this.states.next(`control/stateChanged ${state}`);
    if (event.state !== state)
      throw new Error(`expected state ${state}, got ${JSON.stringify(event)}`);
    return event;
  }

  /** Sends SetConfiguration; resolves with the reply (`{}`: received). */
  configure(configuration: SetConfigurationParams): Promise<unknown> {
    return this.peer.call(ControlChannelMethods.setConfiguration, configuration);
  }

  /** Sends SetState; resolves with the reply (`{}`: received). */
  setState(state: RequestedState): Promise<unknown> {
    return this.peer.call(ControlChannelMethods.setState, { state });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.peer.close();
  }
}
