// The app's view of RPC: a RialtoClient against a real session server (started by an
// in-process ServerManager, app Active, test methods on) compared with a raw Bun unix-socket
// echo in another process, in the same run, in alternating blocks so both see the same load.
//   1. client.ping (retry-RPC: request ids, acks, reply cache, TypeBox checks) against a
//      100-byte raw echo (a ping request frame is about 100 bytes), one at a time: p50, p99.
//   2. The same with 32 calls in flight: calls per second.
//   3. A 64 KiB payload (`test/echo` of a 64 KiB string): through the shm pool (the client's
//      default inline limit of 4096 bytes) against the same call inline over the socket (a
//      client whose inline limit is above it), with a 64 KiB raw echo as the floor.
// Each line also shows the CPU time per round trip of both processes (Linux schedstat), which
// load on the machine does not inflate. This process, the raw echo and the session server are
// pinned to one core, so the raw baseline and the client meet the same scheduling (see
// support/cpu-affinity.ts; rpc-roundtrip.ts measures both placements).
// Last line: one JSON object with the figures; `pingRatio` = ping p50 / raw p50 (goal <= 1.3);
// `cpuUsPerCall` = [caller, answerer] µs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestMethods } from "@rialto/protocol/testing";
import { BenchApp } from "./support/bench-app.ts";
import { percentile, startChild } from "./support/child-process.ts";
import { peerCommand, pinCaller } from "./support/cpu-affinity.ts";
import { CpuAccount } from "./support/cpu-time.ts";
import { inFlight, round2, sequential } from "./support/measure.ts";
import { quick } from "./support/quick.ts";
import { connectRawEcho } from "./support/raw-echo.ts";

const PING_WARMUP = 2_000;
const PING_ROUNDS = quick(20_000, 2_000);
/** Raw and client alternate in blocks so both see the same machine load (2-core VM, noisy). */
const PING_BLOCK = 500;
const PING_BYTES = 100;
const FLIGHT = 32;
const FLIGHT_BLOCKS = quick(10, 2);
const FLIGHT_BLOCK = 4_000;
const BIG_BYTES = 64 << 10;
const BIG_WARMUP = 200;
const BIG_ROUNDS = 2_000;
const BIG_BLOCK = 100;
/** Above any JSON of a 64 KiB string: the inline client never uses its pool. */
const NEVER_POOL = 1 << 30;

const dir = mkdtempSync(join(tmpdir(), "rialto-bench-echo-"));
try {
  const echoPath = join(dir, "raw.sock");
  const pin = peerCommand("same core");
  await using echo = await startChild(
    [join(import.meta.dir, "support/raw-echo.ts"), echoPath],
    pin,
  );
  await using app = await BenchApp.start(undefined, pin);
  using _pinned = pinCaller("same core");
  const pooled = await app.connect();
  const inline = await app.connect({ shmInlineLimit: NEVER_POOL });
  const rawSmall = await connectRawEcho(echoPath, PING_BYTES);
  const rawBig = await connectRawEcho(echoPath, BIG_BYTES);
  const serverPid = app.pid ?? 0;
  const rawCpu = () => new CpuAccount([process.pid, echo.process.pid]);
  const clientCpu = () => new CpuAccount([process.pid, serverPid]);
  const cpu = {
    rawPing: rawCpu(),
    clientPing: clientCpu(),
    rawFlight: rawCpu(),
    clientFlight: clientCpu(),
    pool: clientCpu(),
    inline: clientCpu(),
    rawBig: rawCpu(),
  };

  // 1. Sequential ping.
  let n = 0;
  const ping = async () => {
    const value = ++n;
    if ((await pooled.ping(value)) !== value) throw new Error(`ping ${value} answered wrongly`);
  };
  await sequential(rawSmall.roundTrip, PING_WARMUP, []);
  await sequential(ping, PING_WARMUP, []);
  const rawPing: number[] = [];
  const clientPing: number[] = [];
  for (let done = 0; done < PING_ROUNDS; done += PING_BLOCK) {
    await cpu.rawPing.charge(PING_BLOCK, () => sequential(rawSmall.roundTrip, PING_BLOCK, rawPing));
    await cpu.clientPing.charge(PING_BLOCK, () => sequential(ping, PING_BLOCK, clientPing));
  }

  // 2. 32 in flight.
  await inFlight(rawSmall.roundTrip, FLIGHT_BLOCK, FLIGHT);
  await inFlight(ping, FLIGHT_BLOCK, FLIGHT);
  const rawRates: number[] = [];
  const clientRates: number[] = [];
  for (let block = 0; block < FLIGHT_BLOCKS; block++) {
    rawRates.push(
      await cpu.rawFlight.charge(FLIGHT_BLOCK, () =>
        inFlight(rawSmall.roundTrip, FLIGHT_BLOCK, FLIGHT),
      ),
    );
    clientRates.push(
      await cpu.clientFlight.charge(FLIGHT_BLOCK, () => inFlight(ping, FLIGHT_BLOCK, FLIGHT)),
    );
  }

  // 3. 64 KiB payload: pool, inline, raw.
  const text = "p".repeat(BIG_BYTES);
  const echoThrough = (client: typeof pooled) => async () => {
    const answer = await client.call(TestMethods.echo, { text });
    if (answer.text.length !== BIG_BYTES) throw new Error("64 KiB echo came back short");
  };
  const viaPool = echoThrough(pooled);
  const viaInline = echoThrough(inline);
  const poolBefore = pooled.getStats().shm.poolCalls;
  await sequential(viaPool, BIG_WARMUP, []);
  await sequential(viaInline, BIG_WARMUP, []);
  await sequential(rawBig.roundTrip, BIG_WARMUP, []);
  const poolBig: number[] = [];
  const inlineBig: number[] = [];
  const rawBigSamples: number[] = [];
  for (let done = 0; done < BIG_ROUNDS; done += BIG_BLOCK) {
    await cpu.pool.charge(BIG_BLOCK, () => sequential(viaPool, BIG_BLOCK, poolBig));
    await cpu.inline.charge(BIG_BLOCK, () => sequential(viaInline, BIG_BLOCK, inlineBig));
    await cpu.rawBig.charge(BIG_BLOCK, () =>
      sequential(rawBig.roundTrip, BIG_BLOCK, rawBigSamples),
    );
  }
  const poolCalls = pooled.getStats().shm.poolCalls - poolBefore;
  const inlinePoolCalls = inline.getStats().shm.poolCalls;
  if (poolCalls !== BIG_WARMUP + BIG_ROUNDS || inlinePoolCalls !== 0) {
    throw new Error(
      `expected ${BIG_WARMUP + BIG_ROUNDS} pool calls and 0 inline-client pool calls, saw ${poolCalls} and ${inlinePoolCalls}`,
    );
  }
  rawSmall.close();
  rawBig.close();

  const stats = (samples: number[]) => ({
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
  });
  const raw = stats(rawPing);
  const client = stats(clientPing);
  const rawRate = percentile(rawRates, 50);
  const clientRate = percentile(clientRates, 50);
  const big = { pool: stats(poolBig), inline: stats(inlineBig), raw: stats(rawBigSamples) };
  /** CPU µs per round trip: "caller + answerer". */
  const cpuCell = (account: CpuAccount) => {
    const [caller = 0, answerer = 0] = account.perOperationUs();
    return `cpu ${caller.toFixed(1).padStart(5)} + ${answerer.toFixed(1).padStart(5)} µs`;
  };
  const line = (label: string, { p50, p99 }: { p50: number; p99: number }, account: CpuAccount) =>
    `  ${label.padEnd(36)}p50 ${p50.toFixed(1).padStart(6)} µs  p99 ${p99.toFixed(1).padStart(7)} µs  ${cpuCell(account)}`;
  const rate = (label: string, perSecond: number, account: CpuAccount) =>
    `  ${label.padEnd(36)}${Math.round(perSecond).toLocaleString("en").padStart(9)} calls/s         ${cpuCell(account)}`;
  const pingRatio = client.p50 / raw.p50;
  const flightRatio = clientRate / rawRate;
  const poolSpeedup = big.inline.p50 / big.pool.p50;

  console.log("cpu = CPU time per round trip of the caller (this process) + the answering process");
  console.log(
    `Ping: ${PING_ROUNDS} sequential round trips each, alternating blocks of ${PING_BLOCK}, after ${PING_WARMUP} warm-up`,
  );
  console.log(line(`raw Bun socket echo (${PING_BYTES} B)`, raw, cpu.rawPing));
  console.log(line("client.ping", client, cpu.clientPing));
  console.log(`  ratio (ping p50 / raw p50) ${pingRatio.toFixed(2)} (goal <= 1.3)`);
  console.log(
    `${FLIGHT} in flight: ${FLIGHT_BLOCKS} alternating blocks of ${FLIGHT_BLOCK} round trips each; median block`,
  );
  console.log(rate(`raw Bun socket echo (${PING_BYTES} B)`, rawRate, cpu.rawFlight));
  console.log(rate("client.ping", clientRate, cpu.clientFlight));
  console.log(`  ratio (client / raw) ${flightRatio.toFixed(2)}`);
  console.log(
    `64 KiB echo (${BIG_BYTES} bytes each way): ${BIG_ROUNDS} sequential round trips each, alternating blocks of ${BIG_BLOCK}, after ${BIG_WARMUP} warm-up`,
  );
  console.log(line("client.call through the shm pool", big.pool, cpu.pool));
  console.log(line("client.call inline over the socket", big.inline, cpu.inline));
  console.log(line("raw Bun socket echo (64 KiB)", big.raw, cpu.rawBig));
  console.log(`  pool speed-up (inline p50 / pool p50) ${poolSpeedup.toFixed(2)}`);
  const cpuFigures = (account: CpuAccount) => account.perOperationUs().map(round2);
  console.log(
    JSON.stringify({
      benchmark: "client-rpc",
      pingRounds: PING_ROUNDS,
      rawPingP50Us: round2(raw.p50),
      rawPingP99Us: round2(raw.p99),
      clientPingP50Us: round2(client.p50),
      clientPingP99Us: round2(client.p99),
      pingRatio: round2(pingRatio),
      inFlight: FLIGHT,
      rawCallsPerSecond: Math.round(rawRate),
      clientCallsPerSecond: Math.round(clientRate),
      inFlightRatio: round2(flightRatio),
      payloadBytes: BIG_BYTES,
      poolP50Us: round2(big.pool.p50),
      poolP99Us: round2(big.pool.p99),
      inlineP50Us: round2(big.inline.p50),
      inlineP99Us: round2(big.inline.p99),
      rawPayloadP50Us: round2(big.raw.p50),
      rawPayloadP99Us: round2(big.raw.p99),
      poolSpeedup: round2(poolSpeedup),
      cpuUsPerCall: {
        rawPing: cpuFigures(cpu.rawPing),
        clientPing: cpuFigures(cpu.clientPing),
        rawInFlight: cpuFigures(cpu.rawFlight),
        clientInFlight: cpuFigures(cpu.clientFlight),
        pool: cpuFigures(cpu.pool),
        inline: cpuFigures(cpu.inline),
        rawPayload: cpuFigures(cpu.rawBig),
      },
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
