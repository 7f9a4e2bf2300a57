// RPC round trip between two processes over a Unix socket: the RPC engine's 100-byte call
// against a raw Bun socket echo of 100 bytes, measured in the same run, once with caller and
// servers pinned to one core and once to two (support/cpu-affinity.ts says why).
// Last line: one JSON object with the figures; `ratio` = engine p50 / raw p50 of the placement
// where it is worse (goal <= 1.3), `placements` has both.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectUnix, RpcPeer } from "@rialto/protocol";
import { TestMethods } from "@rialto/protocol/testing";
import { percentile, startChild } from "./support/child-process.ts";
import { type Placement, peerCommand, pinCaller, placements } from "./support/cpu-affinity.ts";
import { round2, sequential } from "./support/measure.ts";
import { quick } from "./support/quick.ts";

const WARMUP = 2_000;
const ROUNDS = quick(20_000, 2_000);
/** Raw and RPC alternate in blocks so both see the same machine load (2-core VM, noisy). */
const BLOCK = 500;
const PAYLOAD = "x".repeat(100);

async function rawEchoClient(path: string) {
  let onReply = () => {};
  let received = 0;
  const socket = await Bun.connect({
    unix: path,
    socket: {
      data(_socket, data) {
        received += data.byteLength;
        if (received >= 100) {
          received -= 100;
          onReply();
        }
      },
    },
  });
  const message = new TextEncoder().encode(PAYLOAD);
  return {
    roundTrip: () =>
      new Promise<void>((resolve) => {
        onReply = resolve;
        socket.write(message);
      }),
    close: () => socket.end(),
  };
}

async function rpcClient(path: string) {
  const peer = new RpcPeer({ transport: await connectUnix(path) });
  return {
    roundTrip: () => peer.call(TestMethods.echo, { text: PAYLOAD }),
    close: () => peer.close(),
  };
}

/** Raw and RPC round trips, alternating, with the caller and both servers placed as asked. */
async function measure(placement: Placement) {
  const script = join(import.meta.dir, "support/echo-server.ts");
  const pin = peerCommand(placement);
  // Fresh socket names: a killed server leaves its socket file behind.
  const rawPath = join(dir, `${placement.replace(" ", "-")}-raw.sock`);
  const rpcPath = join(dir, `${placement.replace(" ", "-")}-rpc.sock`);
  await using _rawServer = await startChild([script, "raw", rawPath], pin);
  await using _rpcServer = await startChild([script, "rpc", rpcPath], pin);
  using _pinned = pinCaller(placement);
  const rawClient = await rawEchoClient(rawPath);
  const rpc = await rpcClient(rpcPath);
  await sequential(rawClient.roundTrip, WARMUP, []);
  await sequential(rpc.roundTrip, WARMUP, []);
  const rawSamples: number[] = [];
  const rpcSamples: number[] = [];
  for (let done = 0; done < ROUNDS; done += BLOCK) {
    await sequential(rawClient.roundTrip, BLOCK, rawSamples);
    await sequential(rpc.roundTrip, BLOCK, rpcSamples);
  }
  rawClient.close();
  rpc.close();
  const raw = { p50: percentile(rawSamples, 50), p99: percentile(rawSamples, 99) };
  const engine = { p50: percentile(rpcSamples, 50), p99: percentile(rpcSamples, 99) };
  return { raw, engine, ratio: engine.p50 / raw.p50 };
}

const dir = mkdtempSync(join(tmpdir(), "rialto-bench-"));
try {
  console.log(
    `100-byte round trip between two processes over a Unix socket: ${ROUNDS} sequential calls each, in alternating blocks of ${BLOCK}, after ${WARMUP} warm-up`,
  );
  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const placement of placements()) {
    const result = await measure(placement);
    results[placement] = result;
    console.log(`  ${placement} (caller and servers)`);
    console.log(
      `    raw Bun socket echo   p50 ${result.raw.p50.toFixed(1)} µs   p99 ${result.raw.p99.toFixed(1)} µs`,
    );
    console.log(
      `    RPC engine call       p50 ${result.engine.p50.toFixed(1)} µs   p99 ${result.engine.p99.toFixed(1)} µs`,
    );
    console.log(`    ratio (RPC p50 / raw p50) ${result.ratio.toFixed(2)} (goal <= 1.3)`);
  }
  const [worst] = Object.values(results).sort((a, b) => b.ratio - a.ratio);
  if (worst === undefined) throw new Error("no placement measured");
  console.log(
    JSON.stringify({
      benchmark: "rpc-roundtrip",
      rounds: ROUNDS,
      rawP50Us: round2(worst.raw.p50),
      rawP99Us: round2(worst.raw.p99),
      rpcP50Us: round2(worst.engine.p50),
      rpcP99Us: round2(worst.engine.p99),
      ratio: round2(worst.ratio),
      placements: Object.fromEntries(
        Object.entries(results).map(([placement, result]) => [
          placement,
          {
            rawP50Us: round2(result.raw.p50),
            rawP99Us: round2(result.raw.p99),
            rpcP50Us: round2(result.engine.p50),
            rpcP99Us: round2(result.engine.p99),
            ratio: round2(result.ratio),
          },
        ]),
      ),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
