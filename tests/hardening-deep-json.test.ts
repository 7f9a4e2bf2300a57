import { describe, expect, it, setDefaultTimeout } from "bun:test";
import {
  encodeJsonFrame,
  FrameDecoder,
  FrameType,
  PROTOCOL_VERSION,
  SessionMethods,
} from "@rialto/protocol";
import {
  nestedJson,
  PingProbe,
  p99Bound,
  rawRequestFrame,
  report,
  rssMiB,
  sampleRss,
  writeAll,
} from "./support/hardening.ts";
import { TestApp } from "./support/rialto-app.ts";
import { eventually } from "./support/wait.ts";

setDefaultTimeout(30_000);

/** A raw registered connection that decodes every frame the server sends. */
async function rawRegistered(path: string) {
  const received: {
    type: number;
    body: { id?: number; result?: unknown; error?: { code: string; message: string } };
  }[] = [];
  const decoder = new FrameDecoder();
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data(_socket, chunk) {
        decoder.push(chunk, (frame) =>
          received.push({ type: frame.type, body: JSON.parse(Buffer.from(frame.body).toString()) }),
        );
      },
    },
  });
  socket.write(
    encodeJsonFrame(FrameType.Request, {
      id: 1,
      method: SessionMethods.register.name,
      params: { protocolVersion: PROTOCOL_VERSION },
    }),
  );
  await eventually(() => received.some((frame) => frame.body.id === 1), "the register reply");
  return { socket, received };
}

describe("deep JSON from a registered client (issue 12, item 3)", () => {
  it("answers every deep frame with a typed error at once, and neither the server nor its other client stalls", async () => {
    // Given a health-checked app (a stalled server would be killed and restarted) and a
    // well-behaved client pinging beside the attack.
    await using app = await TestApp.start({
      manager: { healthCheckIntervalMs: 250, failedPingsBeforeRecovery: 3 },
    });
    const pid = app.pid;
    const attacker = await rawRegistered(app.socketPath);

    // When the attacker sends 30 bodies of 60,000 '[' then 60,000 ']' (120 KB
    // each: 3.6 MB), 30 requests whose params are that deep, and 30 whose params are nested 60
    // deep (under the parser's limit, so they reach the params check and its error message),
    // then a ping.
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 30; i++) {
      frames.push(rawRequestFrame(nestedJson(60_000)));
      frames.push(
        rawRequestFrame(
          `{"id":${1000 + i},"method":"session/ping","params":${nestedJson(60_000, "1")}}`,
        ),
      );
      frames.push(
        rawRequestFrame(
          `{"id":${2000 + i},"method":"session/ping","params":${nestedJson(60, "1")}}`,
        ),
      );
    }
    const ping = encodeJsonFrame(FrameType.Request, {
      id: 9999,
      method: SessionMethods.ping.name,
      params: { value: 5 },
    });
    const attack = Buffer.concat([...frames, ping]);
    const rssBefore = rssMiB(pid);
    const rss = sampleRss(pid);
    await using probe = await PingProbe.start(app.socketPath);
    await probe.baseline();
    const started = performance.now();
    // (In 12 bursts 40 ms apart, so that the probe's p99 covers the whole attack.)
    const burst = Math.ceil(attack.byteLength / 12);
    for (let offset = 0; offset < attack.byteLength; offset += burst) {
      expect(await writeAll(attacker.socket, attack.subarray(offset, offset + burst))).toBe(true);
      await Bun.sleep(40);
    }

    // Then every frame is answered, in order, on a connection that survives: 60 PROTOCOL_ERROR
    // notices naming the depth, 30 INVALID_ARGUMENT replies with a bounded message, the ping.
    await eventually(
      () => attacker.received.some((frame) => frame.body.id === 9999),
      "the ping after the attack",
    );
    const elapsed = performance.now() - started;
    // (Events, e.g. the health check's heartbeats, are not answers.)
    const answers = attacker.received.slice(1).filter((frame) => frame.type !== FrameType.Event);
    const notices = answers.filter((frame) => frame.type === FrameType.Notice);
    expect(notices).toHaveLength(60);
    expect(notices.every((frame) => frame.body.error?.code === "PROTOCOL_ERROR")).toBe(true);
    expect(notices[0]?.body.error?.message).toContain("deeper than 64 levels");
    const refused = answers.filter(
      (frame) => (frame.body.id ?? 0) >= 2000 && frame.body.id !== 9999,
    );
    expect(refused.map((frame) => frame.body.id)).toEqual(
      Array.from({ length: 30 }, (_, i) => 2000 + i),
    );
    for (const frame of refused) {
      expect(frame.body.error?.code).toBe("INVALID_ARGUMENT");
      expect(frame.body.error?.message.length).toBeLessThan(400);
    }
    expect(answers.at(-1)?.body).toEqual({ id: 9999, result: { value: 5 } });

    const figures = await probe.stop();
    const peak = rss.stop();
    attacker.socket.end();
    report("deep JSON", {
      frames: frames.length + 1,
      bytes: attack.byteLength,
      answeredWithinMs: Math.round(elapsed),
      ping: figures,
      rssBeforeMiB: Math.round(rssBefore),
      rssPeakMiB: Math.round(peak),
    });
    expect(elapsed).toBeLessThan(3000);
    expect(figures.p99).toBeLessThan(p99Bound(figures));
    expect(peak - rssBefore).toBeLessThan(32);
    // And the server was never taken for hung: same process, still Active, victim unharmed.
    expect(app.pid).toBe(pid);
    expect(app.manager.getState(app.appId)).toBe("Active");
    expect(figures.reconnects).toBe(0);
  });
});
