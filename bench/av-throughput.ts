// Media frames through a real pipeline over shared memory, as an app pushes them: a session
// server (in-process ServerManager, app Active, playback clock `freerun`, sink `null`) and a
// RialtoClient (Running) with one pipeline playing one video source; every needMediaData is
// answered with addSegment (straight into the AV shared memory) until the request is full
// (24 frames while playing), then haveData `Ok`; the server copies the frames out and renders
// them as fast as they come. Baselines measured in the same run, in alternating rounds:
//   - plain copy: a Uint8Array.set of the same bytes, batch by batch (as shm-throughput);
//   - inline over the socket: the same frames written to a raw Bun unix socket with the same
//     rhythm (one batch of 24 frames outstanding; the receiver in another process reads every
//     byte and answers, then the next batch goes) — the cheapest way to send frames inline.
// Frames of 64 KiB: media bytes/s (goal: shared memory >= 3x the socket); frames of 1 KiB:
// frames/s (goal >= 100,000). Last line: one JSON object with the figures.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BenchApp } from "./support/bench-app.ts";
import { percentile, startChild } from "./support/child-process.ts";
import { CpuAccount } from "./support/cpu-time.ts";
import { round2 } from "./support/measure.ts";
import { PipelineFeeder } from "./support/pipeline-feeder.ts";
import { quick } from "./support/quick.ts";
import { connectRawFrameSender, type RawFrameSender } from "./support/raw-frame-stream.ts";

/** Frames per needMediaData while playing (Rialto's 24). */
const BATCH = 24;
const ROUNDS = quick(7, 2);
const CASES = [
  { frameBytes: 64 << 10, batchesPerRound: 64 },
  { frameBytes: 1 << 10, batchesPerRound: 160 },
];
const WARMUP_BATCHES = 16;

/** The same bytes, batch by batch, copied with Uint8Array.set into a buffer of a video region's size. */
function plainCopy(target: Uint8Array, frame: Uint8Array, batches: number): number {
  const start = Bun.nanoseconds();
  for (let b = 0; b < batches; b++) {
    let offset = 0;
    for (let i = 0; i < BATCH; i++) {
      target.set(frame, offset);
      offset += frame.byteLength;
    }
  }
  return Bun.nanoseconds() - start;
}

async function socketBatches(sender: RawFrameSender, frame: Uint8Array, batches: number) {
  const frames = Array.from({ length: BATCH }, () => frame);
  const start = Bun.nanoseconds();
  for (let b = 0; b < batches; b++) await sender.sendBatch(frames);
  return Bun.nanoseconds() - start;
}

interface Row {
  frameBytes: number;
  framesPerRound: number;
  /** Frames per second of each round. */
  shm: number[];
  socket: number[];
  plain: number[];
  cycleP50Us: number;
  cpu: { shm: number[]; socket: number[] };
}

const dir = mkdtempSync(join(tmpdir(), "rialto-bench-av-"));
try {
  const sinkPath = join(dir, "frames.sock");
  await using receiver = await startChild([
    join(import.meta.dir, "support/raw-frame-stream.ts"),
    sinkPath,
  ]);
  await using app = await BenchApp.start({
    playback: { clock: "freerun", sink: "null" },
    resources: { maxPlaybackSessions: 1 },
  });
  const client = await app.connect();
  await client.setApplicationState("Running");
  const videoRegionBytes = client.sharedMemory?.info.playback[0]?.video.length ?? 0;
  const sender = await connectRawFrameSender(sinkPath);
  const rows: Row[] = [];
  for (const { frameBytes, batchesPerRound } of CASES) {
    const framesPerRound = batchesPerRound * BATCH;
    const frame = new Uint8Array(frameBytes).fill(0x5a);
    const target = new Uint8Array(Math.max(videoRegionBytes, BATCH * frameBytes));
    await using feeder = await PipelineFeeder.start(client, frameBytes);
    await feeder.feed(WARMUP_BATCHES * BATCH);
    await socketBatches(sender, frame, WARMUP_BATCHES);
    plainCopy(target, frame, WARMUP_BATCHES);
    feeder.cycles.length = 0;
    const perSecond = (ns: number) => framesPerRound / (ns / 1e9);
    const shmCpu = new CpuAccount([process.pid, app.pid ?? 0]);
    const socketCpu = new CpuAccount([process.pid, receiver.process.pid]);
    const row: Row = {
      frameBytes,
      framesPerRound,
      shm: [],
      socket: [],
      plain: [],
      cycleP50Us: 0,
      cpu: { shm: [], socket: [] },
    };
    const fedBefore = feeder.framesFed;
    for (let round = 0; round < ROUNDS; round++) {
      row.shm.push(
        perSecond(await shmCpu.charge(framesPerRound, () => feeder.feed(framesPerRound))),
      );
      row.socket.push(
        perSecond(
          await socketCpu.charge(framesPerRound, () =>
            socketBatches(sender, frame, batchesPerRound),
          ),
        ),
      );
      row.plain.push(perSecond(plainCopy(target, frame, batchesPerRound)));
    }
    const fed = feeder.framesFed - fedBefore;
    if (fed !== ROUNDS * framesPerRound) {
      throw new Error(`fed ${fed} frames, expected ${ROUNDS * framesPerRound}`);
    }
    const stats = await feeder.stats();
    if (stats.renderedFrames !== feeder.framesFed || stats.droppedFrames !== 0) {
      throw new Error(
        `the server rendered ${stats.renderedFrames} frames (dropped ${stats.droppedFrames}) of ${feeder.framesFed} fed`,
      );
    }
    row.cycleP50Us = percentile(feeder.cycles, 50);
    row.cpu = { shm: shmCpu.perOperationUs(), socket: socketCpu.perOperationUs() };
    rows.push(row);
  }
  sender.close();

  const median = (values: number[]) => percentile(values, 50);
  /** The median over rounds of `a / b` within each round: both saw the same load. */
  const ratio = (a: number[], b: number[]) => median(a.map((value, i) => value / (b[i] ?? 0)));
  const precise = (value: number) => Number(value.toPrecision(3));
  const label = (bytes: number) => `${bytes >> 10} KiB`;
  console.log(
    `${ROUNDS} alternating rounds per frame size; median round (ratios: median of the ratios within a round); one batch of ${BATCH} frames outstanding`,
  );
  console.log(
    "frame    path                                 frames/s      GB/s   cpu µs/frame (app + other)",
  );
  const line = (size: string, path: string, fps: number, frameBytes: number, cpu?: number[]) =>
    `${size.padEnd(9)}${path.padEnd(37)}${Math.round(fps).toLocaleString("en").padStart(10)}  ${((fps * frameBytes) / 1e9).toFixed(2).padStart(8)}   ${cpu === undefined ? "" : cpu.map((us) => us.toFixed(2)).join(" + ")}`;
  for (const row of rows) {
    const size = label(row.frameBytes);
    console.log(
      line(size, "pipeline over shared memory", median(row.shm), row.frameBytes, row.cpu.shm),
    );
    console.log(
      line("", "inline over a raw unix socket", median(row.socket), row.frameBytes, row.cpu.socket),
    );
    console.log(line("", "plain copy (Uint8Array.set)", median(row.plain), row.frameBytes));
    console.log(
      `${"".padEnd(9)}shm / socket ${ratio(row.shm, row.socket).toFixed(2)}   shm / plain copy ${precise(ratio(row.shm, row.plain))}   needMediaData cycle p50 ${row.cycleP50Us.toFixed(0)} µs`,
    );
  }
  const big = rows[0] as Row;
  const small = rows[1] as Row;
  console.log(
    `goals: 64 KiB shm / socket >= 3: ${ratio(big.shm, big.socket).toFixed(2)}; 1 KiB frames/s >= 100,000: ${Math.round(median(small.shm)).toLocaleString("en")}`,
  );
  console.log(
    JSON.stringify({
      benchmark: "av-throughput",
      rounds: ROUNDS,
      framesPerBatch: BATCH,
      frames: rows.map((row) => ({
        frameBytes: row.frameBytes,
        framesPerRound: row.framesPerRound,
        shmFramesPerSecond: Math.round(median(row.shm)),
        shmGBps: round2((median(row.shm) * row.frameBytes) / 1e9),
        socketFramesPerSecond: Math.round(median(row.socket)),
        socketGBps: round2((median(row.socket) * row.frameBytes) / 1e9),
        plainCopyGBps: round2((median(row.plain) * row.frameBytes) / 1e9),
        shmVsSocket: round2(ratio(row.shm, row.socket)),
        shmVsPlainCopy: precise(ratio(row.shm, row.plain)),
        needMediaDataCycleP50Us: Math.round(row.cycleP50Us),
        cpuUsPerFrame: { shm: row.cpu.shm.map(round2), socket: row.cpu.socket.map(round2) },
      })),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
