// A session server that attacks its manager over the control channel (fd 3), chosen by the app
// id it is configured with; any other app id behaves. It reports Uninitialised, accepts every
// change ({} then the state, as the real one does) and answers pings, except:
// - app "deep": right after reporting its state, sends 30 bodies nested 60,000 deep (3.6 MB);
// - app "partial": right after reporting its state, sends all of a 1 MiB frame but one byte,
//   and then nothing at all (no ping answers: they would complete the frame).
import {
  ControlChannelEvents,
  ControlChannelMethods,
  connectFd,
  encodeFrame,
  FrameType,
  MethodRouter,
  RpcPeer,
} from "@rialto/protocol";

let mute = false;

function attack(appId: string): void {
  if (appId === "deep") {
    const body = new TextEncoder().encode(`${"[".repeat(60_000)}${"]".repeat(60_000)}`);
    for (let i = 0; i < 30; i++) peer.writeRaw(encodeFrame(FrameType.Event, body));
  } else if (appId === "partial") {
    const frame = encodeFrame(FrameType.Event, new Uint8Array(1024 * 1024).fill(0x20));
    peer.writeRaw(frame.subarray(0, frame.byteLength - 1));
    mute = true;
  }
}

const router = new MethodRouter<RpcPeer>()
  .handle(ControlChannelMethods.setConfiguration, ({ appId, targetState }) => {
    setImmediate(() => {
      peer.emit(ControlChannelEvents.stateChanged, { state: targetState });
      attack(appId);
    });
    return {};
  })
  .handle(ControlChannelMethods.setState, ({ state }) => {
    if (mute) return new Promise<never>(() => {});
    setImmediate(() => {
      peer.emit(ControlChannelEvents.stateChanged, { state });
      if (state === "NotRunning") setTimeout(() => process.exit(0), 20);
    });
    return {};
  })
  .handle(ControlChannelMethods.setLogLevel, () => (mute ? new Promise<never>(() => {}) : {}))
  .handle(ControlChannelMethods.ping, ({ id }) => (mute ? new Promise<never>(() => {}) : { id }));
const peer = new RpcPeer({ name: "hostile-session-server", router });
peer.attach(await connectFd(3));
peer.emit(ControlChannelEvents.stateChanged, { state: "Uninitialised" });
setInterval(() => {}, 60_000);
