// A session server that speaks the control protocol but stalls (the transition-timeout cases the
// real session server cannot produce on demand). It reports Uninitialised, accepts every change
// ({} as the real one does) and answers pings. With `configuration` as its argument it never
// reports the configured state; with `state` it reports that one and then never reports the
// state a later setState asks for.
import {
  ControlChannelEvents,
  ControlChannelMethods,
  connectFd,
  MethodRouter,
  RpcPeer,
} from "@rialto/protocol";

const stallOn = process.argv[2];
if (stallOn !== "configuration" && stallOn !== "state") {
  process.stderr.write("usage: lifecycle-stalled-session-server.ts configuration|state\n");
  process.exit(2);
}
const router = new MethodRouter<RpcPeer>()
  .handle(ControlChannelMethods.setConfiguration, ({ targetState }) => {
    // Reported after the reply, as the real session server does.
    if (stallOn === "state") {
      setImmediate(() => peer.emit(ControlChannelEvents.stateChanged, { state: targetState }));
    }
    return {};
  })
  .handle(ControlChannelMethods.setState, () => ({}))
  .handle(ControlChannelMethods.setLogLevel, () => ({}))
  .handle(ControlChannelMethods.ping, ({ id }) => ({ id }));
const peer = new RpcPeer({ name: "stalled-session-server", router });
peer.attach(await connectFd(3));
peer.emit(ControlChannelEvents.stateChanged, { state: "Uninitialised" });
setInterval(() => {}, 60_000);
