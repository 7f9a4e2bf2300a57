import { describe, expect, it, setDefaultTimeout } from "bun:test";
import {
  connectUnix,
  PROTOCOL_VERSION,
  type RialtoError,
  RpcPeer,
  SessionMethods,
} from "@rialto/protocol";
import { PingProbe, p99Bound, report } from "./support/hardening.ts";
import { TestApp } from "./support/rialto-app.ts";
import { within } from "./support/wait.ts";

setDefaultTimeout(30_000);

/**
 * One attacker connection: tries to resume `clientId` with guessed secrets until the server
 * closes the connection. Returns the error codes it got and whether it was closed.
 */
async function guessOnOneConnection(
  socketPath: string,
  clientId: number,
): Promise<{ codes: string[]; closed: boolean }> {
  const closed = Promise.withResolvers<void>();
  const peer = new RpcPeer({ name: "guesser", onTransportClose: () => closed.resolve() });
  peer.attach(await connectUnix(socketPath));
  const codes: string[] = [];
  try {
    for (let guess = 0; guess < 10 && peer.isConnected; guess++) {
      const resumeToken = crypto.getRandomValues(new Uint8Array(16)).toHex();
      const outcome = await peer
        .call(
          SessionMethods.register,
          { protocolVersion: PROTOCOL_VERSION, clientId, resumeToken },
          { timeoutMs: 5000 },
        )
        .then(
          () => "RESUMED",
          (error: RialtoError) => error.code,
        );
      codes.push(outcome);
      if (outcome === "RESUMED") break;
    }
    // The server closes a guesser after its third failure: wait for that, with a deadline.
    await within(closed.promise, "the guesser's connection closed", 2000).catch(() => undefined);
    return { codes, closed: !peer.isConnected };
  } finally {
    peer.close();
  }
}

describe("resuming another client's session (issue 12, item 2)", () => {
  it("refuses guessed resume secrets, closes each guesser after three tries, and the real client keeps its session, exactly once", async () => {
    await using app = await TestApp.start({ config: { resources: { maxPlaybackSessions: 1 } } });
    // Given a client that holds a pipeline, and a well-behaved client pinging beside the attack.
    const owner = await app.connect();
    await owner.setApplicationState("Running");
    const pipeline = await owner.createMediaPipeline();
    const ownerId = owner.clientId ?? 0;
    await using probe = await PingProbe.start(app.socketPath);
    await probe.baseline();

    // When 100 connections, 10 at a time (under the connection cap), each guess the owner's
    // resume secret (its id is no secret).
    const started = performance.now();
    const results: { codes: string[]; closed: boolean }[] = [];
    for (let wave = 0; wave < 10; wave++) {
      results.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, () => guessOnOneConnection(app.socketPath, ownerId)),
        )),
      );
    }
    const elapsed = performance.now() - started;
    const figures = await probe.stop();

    // Then every guess is UNKNOWN_CLIENT (no oracle), and each connection is closed after its
    // third failure (a guess already on its way is refused with PERMISSION_DENIED): guessing
    // costs a connection per three tries.
    for (const { codes, closed } of results) {
      expect(codes.slice(0, 3)).toEqual(["UNKNOWN_CLIENT", "UNKNOWN_CLIENT", "UNKNOWN_CLIENT"]);
      expect(codes.slice(3).every((code) => code === "PERMISSION_DENIED")).toBe(true);
      expect(closed).toBe(true);
    }
    report("guessed resume secrets", {
      connections: results.length,
      guessesAnswered: results.length * 3,
      guessesPerSecond: Math.round((results.length * 3 * 1000) / elapsed),
      ping: figures,
    });
    expect(figures.p99).toBeLessThan(p99Bound(figures));

    // And the owner still has its session: its pipeline answers, and across a dropped
    // connection (resumed with its own secret) a call runs exactly once: the one free playback
    // slot is still taken by the first pipeline, so a second create is refused, not doubled.
    expect(await pipeline.getPosition().catch((error: RialtoError) => error.code)).not.toBe(
      "NOT_FOUND",
    );
    owner.dropConnection();
    await expect(owner.createMediaPipeline()).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    expect(owner.clientId).toBe(ownerId);
    expect(owner.getStats().reregistrations).toBe(0);
    expect(owner.getStats().reconnects).toBe(1);
  });
});
