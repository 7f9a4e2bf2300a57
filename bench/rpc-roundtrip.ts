// RPC round trip between two processes over a Unix socket: the RPC engine's 100-byte call
// against a raw Bun socket echo of 100 bytes, measured in the same run.
// Last line: one JSON object with the figures; `ratio` = engine p50 / raw p50 (goal <= 1.3).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectUnix, RpcPeer, TestMethods } from "@rialto/protocol";
import { percentile, startChild } from "./support/child-process.ts";

const WARMUP = 2_000;
const ROUNDS = 20_000;
const PAYLOAD = "x".repeat(100);

async function measureRaw(path: string): Promise<number[]> {
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
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const reply = new Promise<void>((resolve) => {
      onReply = resolve;
    });
    const start = Bun.nanoseconds();
    socket.write(message);
    await reply;
    if (i >= WARMUP) samples.push((Bun.nanoseconds() - start) / 1000);
  }
  socket.end();
  return samples;
}

async function measureRpc(path: string): Promise<number[]> {
  const peer = new RpcPeer({ transport: await connectUnix(path) });
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const start = Bun.nanoseconds();
    await peer.call(TestMethods.echo, { text: PAYLOAD });
    if (i >= WARMUP) samples.push((Bun.nanoseconds() - start) / 1000);
  }
  peer.close();
  return samples;
}

const dir = mkdtempSync(join(tmpdir(), "rialto-bench-"));
try {
  const results: Record<string, { p50: number; p99: number }> = {};
  for (const mode of ["raw", "rpc"] as const) {
    const path = join(dir, `${mode}.sock`);
    await using _child = await startChild([
      join(import.meta.dir, "support/echo-server.ts"),
      mode,
      path,
    ]);
    const samples = mode === "raw" ? await measureRaw(path) : await measureRpc(path);
    results[mode] = { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  }
  const raw = results.raw as { p50: number; p99: number };
  const rpc = results.rpc as { p50: number; p99: number };
  console.log(
    `100-byte round trip over a Unix socket, ${ROUNDS} sequential calls after ${WARMUP} warm-up`,
  );
  console.log(
    `  raw Bun socket echo   p50 ${raw.p50.toFixed(1)} µs   p99 ${raw.p99.toFixed(1)} µs`,
  );
  console.log(
    `  RPC engine call       p50 ${rpc.p50.toFixed(1)} µs   p99 ${rpc.p99.toFixed(1)} µs`,
  );
  const ratio = rpc.p50 / raw.p50;
  console.log(`  ratio (RPC p50 / raw p50) ${ratio.toFixed(2)} (goal <= 1.3)`);
  console.log(
    JSON.stringify({
      benchmark: "rpc-roundtrip",
      rounds: ROUNDS,
      rawP50Us: round(raw.p50),
      rawP99Us: round(raw.p99),
      rpcP50Us: round(rpc.p50),
      rpcP99Us: round(rpc.p99),
      ratio: round(ratio),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
