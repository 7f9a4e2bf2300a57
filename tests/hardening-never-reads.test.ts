import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { encodeJsonFrame, FrameType, PROTOCOL_VERSION, SessionMethods } from "@rialto/protocol";
import {
  openRaw,
  PingProbe,
  p99Bound,
  type RawConnection,
  RSS_GROWTH_LIMIT_MIB,
  report,
  rssMiB,
  sampleRss,
} from "./support/hardening.ts";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

setDefaultTimeout(30_000);

/** 1000 pings in one buffer: 80 KB of requests whose replies nobody will read. */
function pingBurst(firstId: number): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let id = firstId; id < firstId + 1000; id++) {
    frames.push(
      encodeJsonFrame(FrameType.Request, {
        id,
        method: SessionMethods.ping.name,
        params: { value: id },
      }),
    );
  }
  return Buffer.concat(frames);
}

/**
 * Registers on `connection`, stops reading, then writes pings as fast as the kernel takes them
 * until the server cuts the connection off or `ms` passed. Returns how many bytes it wrote.
 */
async function floodWithoutReading(
  connection: RawConnection,
  bursts: readonly Uint8Array[],
  ms: number,
): Promise<number> {
  connection.socket.write(
    encodeJsonFrame(FrameType.Request, {
      id: 1,
      method: SessionMethods.register.name,
      params: { protocolVersion: PROTOCOL_VERSION },
    }),
  );
  await eventually(() => connection.received > 0, "the register reply");
  connection.socket.pause();
  const deadline = performance.now() + ms;
  let written = 0;
  let next = 0;
  let pending: Uint8Array = bursts[next] as Uint8Array;
  while (!connection.closed && performance.now() < deadline) {
    const taken = connection.socket.write(pending);
    if (taken < 0) break;
    written += taken;
    if (taken < pending.byteLength) {
      pending = pending.subarray(taken);
      await Bun.sleep(5);
      continue;
    }
    next++;
    if (next === bursts.length) throw new Error("the server read more than every prepared ping");
    pending = bursts[next] as Uint8Array;
    await Bun.sleep(0);
  }
  return written;
}

describe("clients that never read (issue 12)", () => {
  it("stops reading from 8 clients that never read, cuts them off when their output stalls, and keeps memory and the other client's latency bounded", async () => {
    // Short write-stall deadline for the test (default 10 s).
    await using app = await TestApp.start({ env: { RIALTO_WRITE_STALL_TIMEOUT_MS: "1000" } });
    const pid = app.pid;
    // (Prepared first: 40,000 pings per connection, far more than the server will read.)
    const bursts = Array.from({ length: 40 }, (_, i) => pingBurst(2 + 1000 * i));
    await using probe = await PingProbe.start(app.socketPath);
    await probe.baseline();
    const rssBefore = rssMiB(pid);
    const rss = sampleRss(pid);

    // When 8 registered clients send pings as fast as they can and never read a reply.
    const attackers = await Promise.all(
      Array.from({ length: 8 }, () => openRaw(app.socketPath, true)),
    );
    const written = await Promise.all(attackers.map((a) => floodWithoutReading(a, bursts, 4000)));

    // Then the server stopped reading their requests once their replies piled up (each could
    // get only a few MB in: the kernel's buffers plus the pause threshold), and cut each off
    // once its output had not moved for the stall deadline.
    await eventually(() => attackers.every((a) => a.closed), "every non-reader cut off", 5000);
    for (const bytes of written) expect(bytes).toBeLessThan(8 * 1024 * 1024);
    const figures = await probe.stop();
    const peak = rss.stop();
    report("8 clients that never read", {
      writtenKiB: written.map((bytes) => Math.round(bytes / 1024)),
      ping: figures,
      rssBeforeMiB: Math.round(rssBefore),
      rssPeakMiB: Math.round(peak),
    });
    expect(figures.p99).toBeLessThan(p99Bound(figures));
    expect(figures.reconnects).toBe(0);
    // The stated bound: output queued for all connections together is at most 16 MiB; the rest
    // is the garbage of Bun's read buffers until the next collection (see the README).
    expect(peak - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MIB);
    const late = await app.connect();
    expect(await late.ping(9)).toBe(9);
  });
});
