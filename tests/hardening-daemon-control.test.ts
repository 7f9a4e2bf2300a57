import { describe, expect, it, setDefaultTimeout } from "bun:test";
import {
  ControlSocketMethods,
  encodeFrame,
  encodeJsonFrame,
  FrameDecoder,
  FrameType,
} from "@rialto/protocol";
import {
  nestedJson,
  oneByteShortOfMiB,
  openRaw,
  PingProbe,
  p99Bound,
  type RawConnection,
  RSS_GROWTH_LIMIT_MIB,
  rawRequestFrame,
  report,
  rssMiB,
  sampleRss,
  writeAll,
} from "./support/hardening.ts";
import { jsonLines, startTestDaemon } from "./support/lifecycle-daemon.ts";
import { eventually } from "./support/wait.ts";

setDefaultTimeout(40_000);

/** A raw control-socket connection that counts the frames the daemon sends. */
async function rawDecoding(path: string) {
  const frames: { type: number; body: { id?: number; error?: { code: string } } }[] = [];
  const decoder = new FrameDecoder();
  const state = { closed: false };
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data(_socket, chunk) {
        decoder.push(chunk, (frame) =>
          frames.push({ type: frame.type, body: JSON.parse(Buffer.from(frame.body).toString()) }),
        );
      },
      close() {
        state.closed = true;
      },
    },
  });
  return { socket, frames, state };
}

describe("the daemon's control socket under resource attacks (issue 12, item 6)", () => {
  it("answers deep JSON, drops incomplete frames at the deadline and cuts off connections that never read, while rialtoctl and the apps carry on", async () => {
    await using d = await startTestDaemon({
      RIALTO_FRAME_TIMEOUT_MS: "1000",
      RIALTO_WRITE_STALL_TIMEOUT_MS: "1000",
    });
    expect((await d.ctl("start", "app1")).exitCode).toBe(0);
    const [before] = jsonLines((await d.ctl("info", "app1", "--json")).stdout);
    const daemonPid = d.daemon.process.pid;
    const deep = Buffer.concat(
      Array.from({ length: 30 }, (_, i) => [
        rawRequestFrame(nestedJson(30_000)),
        rawRequestFrame(
          `{"id":${i + 1},"method":"manager/getState","params":${nestedJson(30_000)}}`,
        ),
      ]).flat(),
    );
    // The largest frame the control socket takes is 64 KiB: all of one but its last byte.
    const short = encodeFrame(FrameType.Request, new Uint8Array(64 * 1024).fill(0x20)).subarray(
      0,
      14 + 64 * 1024 - 1,
    );
    const huge = oneByteShortOfMiB();
    const list = encodeJsonFrame(FrameType.Request, {
      id: 1,
      method: ControlSocketMethods.listApplications.name,
      params: {},
    });
    const listFlood = Buffer.concat(Array.from({ length: 2000 }, () => list));
    await using probe = await PingProbe.start(d.controlSocket, "control");
    await probe.baseline();
    const rssBefore = rssMiB(daemonPid);
    const rss = sampleRss(daemonPid);

    // When one connection sends 60 bodies nested 30,000 deep (3.6 MB, each under the 64 KiB
    // frame limit of the control socket), then a call.
    const deepOne = await rawDecoding(d.controlSocket);
    expect(await writeAll(deepOne.socket, Buffer.concat([deep, list]))).toBe(true);
    // Then each is answered with a PROTOCOL_ERROR notice, and the call after them is answered.
    await eventually(() => deepOne.frames.length === 61, "60 notices and the reply");
    expect(deepOne.frames.slice(0, 60).every((f) => f.body.error?.code === "PROTOCOL_ERROR")).toBe(
      true,
    );
    expect(deepOne.frames[60]?.type).toBe(FrameType.Response);
    expect(deepOne.state.closed).toBe(false);
    deepOne.socket.end();

    // When 40 connections each send all of a 64 KiB frame but one byte, 40 more start a
    // 1 MiB one, and 4 connections send calls as fast as they can without reading a reply.
    const partial: RawConnection[] = [];
    for (let i = 0; i < 80; i++) {
      const connection = await openRaw(d.controlSocket);
      partial.push(connection);
      void writeAll(connection.socket, i % 2 === 0 ? short : huge, 5000);
    }
    const silentReaders: RawConnection[] = [];
    for (let i = 0; i < 4; i++) {
      const connection = await openRaw(d.controlSocket, false);
      silentReaders.push(connection);
      void (async () => {
        while (!connection.closed) {
          if (!(await writeAll(connection.socket, listFlood, 2000))) break;
        }
      })();
    }
    // Then the 1 MiB ones are refused at their header, the partial frames are dropped with
    // their connections at the frame deadline, and the non-readers are cut off once their
    // replies stop moving (1 s each here).
    await eventually(() => partial.every((c) => c.closed), "the partial frames dropped", 8000);
    await eventually(() => silentReaders.every((c) => c.closed), "the non-readers cut", 8000);

    const figures = await probe.stop();
    const peak = rss.stop();
    report("daemon control socket", {
      ping: figures,
      rssBeforeMiB: Math.round(rssBefore),
      rssPeakMiB: Math.round(peak),
    });
    expect(figures.p99).toBeLessThan(p99Bound(figures));
    expect(peak - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MIB);
    // And rialtoctl still works, and the app was not touched.
    const [after] = jsonLines((await d.ctl("info", "app1", "--json")).stdout);
    expect(after).toEqual(before);
  });
});
