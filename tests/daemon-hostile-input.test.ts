import { describe, expect, it, setDefaultTimeout } from "bun:test";
import {
  ControlSocketMethods,
  connectUnix,
  encodeFrame,
  encodeJsonFrame,
  FrameDecoder,
  FrameType,
  type RialtoError,
  RpcPeer,
} from "@rialto/protocol";
import type { Socket } from "bun";
import { jsonLines, startTestDaemon } from "./support/lifecycle-daemon.ts";
import { processGone } from "./support/lifecycle-proc.ts";
import { within } from "./support/wait.ts";

// Process tests start real session servers (about 0.5 s each on a 2-core machine).
setDefaultTimeout(30_000);

/** What the daemon sent on a raw connection, and whether it closed it first. */
interface RawExchange {
  /** Decoded frames, as [type, parsed JSON body]. */
  frames: [number, unknown][];
  closed: boolean;
}

/**
 * Writes `bytes` on a fresh raw connection and collects what the daemon sends until it closes
 * the connection or `frameCount` frames arrived.
 */
async function sendRaw(
  path: string,
  bytes: Uint8Array,
  frameCount = Infinity,
): Promise<RawExchange> {
  const exchange: RawExchange = { frames: [], closed: false };
  const decoder = new FrameDecoder();
  const done = Promise.withResolvers<void>();
  let ending = false;
  const socket: Socket = await Bun.connect({
    unix: path,
    socket: {
      data: (_socket, chunk) => {
        decoder.push(chunk, (frame) =>
          exchange.frames.push([frame.type, JSON.parse(new TextDecoder().decode(frame.body))]),
        );
        if (exchange.frames.length >= frameCount) done.resolve();
      },
      close: () => {
        // Our own end() below is not the daemon closing.
        if (!ending) exchange.closed = true;
        done.resolve();
      },
    },
  });
  socket.write(bytes);
  try {
    await within(done.promise, "the daemon's answer");
  } finally {
    ending = true;
    socket.end();
  }
  return exchange;
}

/** The PROTOCOL_ERROR notice the daemon sends before it closes a connection it cannot read. */
const protocolErrorNotice: [number, unknown] = [
  FrameType.Notice,
  { error: expect.objectContaining({ code: "PROTOCOL_ERROR" }) },
];

describe("the daemon's control socket under hostile input", () => {
  it("answers garbage, bad frames and bad calls with typed errors and keeps every app", async () => {
    await using d = await startTestDaemon();
    expect((await d.ctl("start", "app1")).exitCode).toBe(0);
    const [before] = jsonLines((await d.ctl("info", "app1", "--json")).stdout);
    const path = d.controlSocket;

    // Bytes that are not a frame: a PROTOCOL_ERROR notice, then the connection is closed.
    const garbage = new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 0xff);
    expect(await sendRaw(path, garbage)).toEqual({ frames: [protocolErrorNotice], closed: true });

    // A header announcing more than the maximum frame length: refused before any allocation.
    const huge = encodeFrame(FrameType.Request, new Uint8Array(0));
    new DataView(huge.buffer).setUint32(0, 0x7fffffff);
    expect(await sendRaw(path, huge)).toEqual({ frames: [protocolErrorNotice], closed: true });

    // A well-formed frame whose body is not JSON: a notice, and the next call on the same
    // connection is answered (only an unreadable stream is fatal).
    const notJson = encodeFrame(FrameType.Request, new TextEncoder().encode("{not json"));
    const list = encodeJsonFrame(FrameType.Request, {
      id: 1,
      method: ControlSocketMethods.listApplications.name,
      params: {},
    });
    const survived = await sendRaw(path, new Uint8Array([...notJson, ...list]), 2);
    expect(survived.closed).toBe(false);
    expect(survived.frames[0]).toEqual(protocolErrorNotice);
    const [type, answer] = survived.frames[1] ?? [];
    expect(type).toBe(FrameType.Response);
    expect(answer).toMatchObject({ id: 1, result: { applications: [{ appId: "app1" }] } });

    // Params a well-behaved client would never send (its own checks refuse them): each call is
    // answered INVALID_ARGUMENT naming the call, on a connection that stays open.
    const badCalls = [{ appId: 42 }, { appId: "../etc" }, { appId: "app1", extra: true }, {}].map(
      (params, index) =>
        encodeJsonFrame(FrameType.Request, {
          id: index + 1,
          method: ControlSocketMethods.getState.name,
          params,
        }),
    );
    const refused = await sendRaw(
      path,
      new Uint8Array(badCalls.flatMap((frame) => [...frame])),
      badCalls.length,
    );
    expect(refused.closed).toBe(false);
    expect(refused.frames).toEqual(
      badCalls.map((_, index) => [
        FrameType.Response,
        {
          id: index + 1,
          error: expect.objectContaining({
            code: "INVALID_ARGUMENT",
            message: expect.stringContaining('"manager/getState" params'),
          }),
        },
      ]),
    );

    // Through a real peer: an unknown method and an unknown app are typed errors too.
    const peer = new RpcPeer({ name: "hostile-test" });
    peer.attach(await connectUnix(path));
    try {
      const errors = await Promise.all(
        [
          peer.call(
            { ...ControlSocketMethods.getState, name: "manager/noSuchMethod" },
            {
              appId: "app1",
            },
          ),
          peer.call(ControlSocketMethods.changeSessionServerState, {
            appId: "ghost",
            state: "Active",
          }),
        ].map((call) =>
          call.then(
            () => "accepted",
            (error: RialtoError) => error.code,
          ),
        ),
      );
      expect(errors).toEqual(["UNKNOWN_METHOD", "UNKNOWN_APP"]);
      // The same connection still serves.
      const { applications } = await peer.call(ControlSocketMethods.listApplications, {});
      expect(applications.map((app) => app.appId)).toEqual(["app1"]);
    } finally {
      peer.close();
    }

    // Nothing was lost: the app and its session server are as they were, and the CLI works.
    const [after] = jsonLines((await d.ctl("info", "app1", "--json")).stdout);
    expect(after).toEqual(before);
    expect(processGone(d.daemon.process.pid)).toBe(false);
    expect(processGone(after?.pid as number)).toBe(false);
  });
});
