import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { encodeJsonFrame, FrameType, PROTOCOL_VERSION, SessionMethods } from "@rialto/protocol";
import {
  oneByteShortOfMiB,
  openRaw,
  PingProbe,
  p99Bound,
  type RawConnection,
  RSS_GROWTH_LIMIT_MIB,
  report,
  rssMiB,
  sampleRss,
  writeAll,
} from "./support/hardening.ts";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

setDefaultTimeout(30_000);

/** Short deadlines so that the test sees them fire (defaults: 5 s and 10 s). */
const DEADLINES = { RIALTO_REGISTRATION_TIMEOUT_MS: "1000", RIALTO_FRAME_TIMEOUT_MS: "1000" };

describe("connections holding incomplete frames (issue 12, memory finding)", () => {
  it("refuses a 1 MiB frame before registration at once, and closes silent connections at the registration deadline", async () => {
    await using app = await TestApp.start({ env: DEADLINES });
    const pid = app.pid;
    const frame = oneByteShortOfMiB();
    await using probe = await PingProbe.start(app.socketPath);
    await probe.baseline();
    const rssBefore = rssMiB(pid);
    const rss = sampleRss(pid);

    // When 120 connections each send all of a 1 MiB frame but one byte (the reported attack),
    // and 60 more connect and send nothing at all.
    const shortOnes: RawConnection[] = [];
    for (let i = 0; i < 120; i++) {
      const connection = await openRaw(app.socketPath);
      shortOnes.push(connection);
      void writeAll(connection.socket, frame, 5000);
    }
    const silent: RawConnection[] = [];
    for (let i = 0; i < 60; i++) silent.push(await openRaw(app.socketPath));

    // Then a new client still connects meanwhile.
    const late = await app.connect();
    expect(await late.ping(1)).toBe(1);
    // And every one of them is closed: the oversize ones at their header (16 KiB before
    // registration), the silent ones by the connection cap or the registration deadline.
    await eventually(() => shortOnes.every((c) => c.closed), "the 120 short frames refused");
    await eventually(() => silent.every((c) => c.closed), "the silent connections closed", 5000);
    const figures = await probe.stop();
    const peak = rss.stop();
    report("incomplete frames before registration", {
      connections: shortOnes.length + silent.length,
      ping: figures,
      rssBeforeMiB: Math.round(rssBefore),
      rssPeakMiB: Math.round(peak),
    });
    expect(figures.p99).toBeLessThan(p99Bound(figures));
    expect(peak - rssBefore).toBeLessThan(24);
    expect(figures.reconnects).toBe(0);
  });

  it("holds registered connections' partial frames only until the frame deadline, within the stated bound", async () => {
    await using app = await TestApp.start({ env: DEADLINES });
    const pid = app.pid;
    const frame = oneByteShortOfMiB();
    const register = encodeJsonFrame(FrameType.Request, {
      id: 1,
      method: SessionMethods.register.name,
      params: { protocolVersion: PROTOCOL_VERSION },
    });
    await using probe = await PingProbe.start(app.socketPath);
    await probe.baseline();
    const rssBefore = rssMiB(pid);
    const rss = sampleRss(pid);

    // When 12 connections register (each a client of the app) and then send all but one byte
    // of a 1 MiB frame, and keep the connection open.
    const attackers: RawConnection[] = [];
    for (let i = 0; i < 12; i++) {
      const connection = await openRaw(app.socketPath);
      attackers.push(connection);
      connection.socket.write(register);
    }
    await eventually(() => attackers.every((c) => c.received > 0), "the registrations answered");
    const sent = await Promise.all(attackers.map((c) => writeAll(c.socket, frame, 5000)));
    expect(sent.every(Boolean)).toBe(true);

    // Then each is cut off once its frame stayed incomplete for the frame deadline (1 s here).
    await eventually(() => attackers.every((c) => c.closed), "the partial frames dropped", 5000);
    const figures = await probe.stop();
    const peak = rss.stop();
    report("incomplete 1 MiB frames of registered clients", {
      connections: attackers.length,
      ping: figures,
      rssBeforeMiB: Math.round(rssBefore),
      rssPeakMiB: Math.round(peak),
    });
    expect(figures.p99).toBeLessThan(p99Bound(figures));
    // What is held is at most one partial frame of about maxFrameLength per registered client;
    // the peak adds the garbage of Bun's read buffers not collected yet.
    expect(peak - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MIB);
    const late = await app.connect();
    expect(await late.ping(3)).toBe(3);
  });
});
