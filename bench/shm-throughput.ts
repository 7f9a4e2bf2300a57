// AV frame throughput through shared memory, across two processes, as the product moves
// frames: the parent writes up to 24 frames (one needMediaData request) with FrameWriter
// into a video region of a sealed memfd the child mapped once (passed over an FdChannel),
// then sends a 16-byte notification on a Bun unix socket; the child reads the table with
// readFrames (views, no copy), checks each frame's first and last byte, reads one byte per
// 4 KiB page and answers on the socket. Modes: "sequential" (one region, wait for each
// answer) and "pipelined" (the video regions of two playback partitions, one outstanding
// request each, as two sources of a session). Baseline: a plain in-process Uint8Array.set of
// the same bytes. Rounds interleave the three measurements so that machine noise hits them
// alike; the table shows the best round and the median. Then the fd-passing round trip
// (sendFds + notification → child maps, reads, unmaps, closes → answer) against the bare
// notification round trip. Everything runs twice: the reader on this process's core, then on the
// other core (support/cpu-affinity.ts says why). Last line: one JSON object with the figures of
// the placement where 64 KiB frames fare worse, and both under `placements`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  computeAvBufferLayout,
  FdChannel,
  FrameWriter,
  type MediaFrame,
  readFrames,
  SharedMemory,
} from "@rialto/shm";
import type { Socket } from "bun";
import { percentile } from "./support/child-process.ts";
import { type Placement, peerCommand, pinCaller, placements } from "./support/cpu-affinity.ts";
import { best, median, round2 } from "./support/measure.ts";
import { quick } from "./support/quick.ts";

const FRAME_SIZES = [4 << 10, 64 << 10, 1 << 20];
const ROUNDS = quick(11, 2);
const BYTES_PER_ROUND = 128 << 20;
const MAX_FRAMES = 24;
const SOURCES = 8;
const TRIP_WARMUP = 200;
const TRIP_ROUNDS = quick(3_000, 300);
const MESSAGE_SIZE = 16;
/** Message types; a message is [type u32, argument u32, frames u32, bad u32] little-endian. */
const BATCH = 1;
const FD = 2;
const PING = 3;

/** Splits a byte stream into fixed-size messages. */
function messageReader(onMessage: (words: Uint32Array) => void): (chunk: Uint8Array) => void {
  const pending = new Uint8Array(MESSAGE_SIZE);
  let filled = 0;
  return (chunk) => {
    for (let at = 0; at < chunk.byteLength; ) {
      const take = Math.min(MESSAGE_SIZE - filled, chunk.byteLength - at);
      pending.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === MESSAGE_SIZE) {
        filled = 0;
        onMessage(new Uint32Array(pending.slice().buffer));
      }
    }
  };
}

let sink = 0;

/**
 * What the reading side does with a batch: readFrames (views), check each frame's first
 * and last byte, and read one byte per 4 KiB page so every page is really accessed.
 */
function consumeFrames(region: Uint8Array): { frames: number; bytes: number; bad: number } {
  let bytes = 0;
  let bad = 0;
  const frames = readFrames(region, { maxFrames: MAX_FRAMES });
  for (const { data, sourceId } of frames) {
    if (data[0] !== sourceId + 1 || data[data.byteLength - 1] !== sourceId + 1) bad++;
    for (let at = 0; at < data.byteLength; at += 4096) sink += data[at] ?? 0;
    bytes += data.byteLength;
  }
  return { frames: frames.length, bytes, bad };
}

async function runChild(socketPath: string, regionList: string): Promise<void> {
  const channel = FdChannel.fromFd(3);
  const memory = SharedMemory.fromFd(channel.receive()?.fds[0] ?? -1);
  const regions = JSON.parse(regionList).map(([offset, size]: [number, number]) =>
    memory.bytes.subarray(offset, offset + size),
  ) as Uint8Array[];
  const answer = new Uint32Array(MESSAGE_SIZE / 4);
  const handle = (socket: Socket, [type, argument]: Uint32Array) => {
    answer.fill(0);
    answer[0] = type ?? 0;
    if (type === BATCH) {
      const seen = consumeFrames(regions[argument ?? 0] ?? new Uint8Array());
      answer[1] = seen.bytes;
      answer[2] = seen.frames;
      answer[3] = seen.bad;
    } else if (type === FD) {
      using passed = SharedMemory.fromFd(channel.receive()?.fds[0] ?? -1);
      sink += passed.bytes[0] ?? 0;
    }
    socket.write(new Uint8Array(answer.buffer));
  };
  let read: (chunk: Uint8Array) => void = () => {};
  await Bun.connect({
    unix: socketPath,
    socket: {
      open(socket) {
        read = messageReader((words) => handle(socket, words));
      },
      data(_socket, chunk) {
        read(chunk);
      },
      close() {
        process.exit(sink === -1 ? 1 : 0);
      },
    },
  });
}

interface Child {
  /** Sends a message; resolves with the answer (answers come back in order). */
  request(type: number, argument?: number): Promise<Uint32Array>;
  close(): Promise<void>;
}

async function startChild(
  channelFd: number,
  regions: { offset: number; length: number }[],
  prefix: string[],
): Promise<Child> {
  const dir = mkdtempSync(join(tmpdir(), "shm-bench-"));
  const path = join(dir, "notify.sock");
  const waiting: ((words: Uint32Array) => void)[] = [];
  const connected = Promise.withResolvers<Socket>();
  const read = messageReader((words) => waiting.shift()?.(words));
  const listener = Bun.listen({
    unix: path,
    socket: { open: (socket) => connected.resolve(socket), data: (_socket, chunk) => read(chunk) },
  });
  const regionList = JSON.stringify(regions.map(({ offset, length }) => [offset, length]));
  const child = Bun.spawn({
    cmd: [...prefix, process.execPath, import.meta.path, "--child", path, regionList],
    stdio: ["ignore", "inherit", "inherit", channelFd],
  });
  const timeout = setTimeout(
    () => connected.reject(new Error("child did not connect in 10 s")),
    10_000,
  );
  const socket = await connected.promise;
  clearTimeout(timeout);
  const message = new Uint32Array(MESSAGE_SIZE / 4);
  return {
    request(type, argument = 0) {
      const answer = new Promise<Uint32Array>((resolve) => waiting.push(resolve));
      message[0] = type;
      message[1] = argument;
      if (socket.write(new Uint8Array(message.buffer)) !== MESSAGE_SIZE) {
        throw new Error("short write");
      }
      return answer;
    },
    async close() {
      socket.end();
      await child.exited;
      listener.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sourcesOf(frameBytes: number): MediaFrame[] {
  return Array.from({ length: SOURCES }, (_, k) => ({
    kind: "video",
    sourceId: k,
    timestampNs: 0,
    durationNs: 16_666_667,
    data: new Uint8Array(frameBytes).fill(k + 1),
    width: 1920,
    height: 1080,
  }));
}

/**
 * Writes batches into `regions` in turn, at most one outstanding request per region, until
 * `total` bytes went through the child. Returns GB/s and the frames per batch.
 */
async function measureShm(
  child: Child,
  regions: Uint8Array[],
  sources: MediaFrame[],
  total: number,
) {
  const outstanding: (Promise<Uint32Array> | undefined)[] = regions.map(() => undefined);
  let written = 0;
  let read = 0;
  let next = 0;
  let framesPerBatch = 0;
  const settle = async (index: number) => {
    const answer = await outstanding[index];
    outstanding[index] = undefined;
    if (answer === undefined) return;
    if (answer[3] !== 0 || answer[2] !== framesPerBatch) {
      throw new Error(`child answered ${answer.join(",")}`);
    }
    read += answer[1] ?? 0;
  };
  const start = Bun.nanoseconds();
  for (let batch = 0; written < total; batch++) {
    const index = batch % regions.length;
    await settle(index);
    const writer = new FrameWriter(regions[index] as Uint8Array, { maxFrames: MAX_FRAMES });
    while (writer.write(sources[next % SOURCES] as MediaFrame) === "ok") next++;
    framesPerBatch = writer.frameCount;
    written += writer.frameCount * (sources[0]?.data.byteLength ?? 0);
    outstanding[index] = child.request(BATCH, index);
  }
  for (let index = 0; index < regions.length; index++) await settle(index);
  return { gbps: read / (Bun.nanoseconds() - start), framesPerBatch };
}

/** Writer and reader in this process, without notifications: the cost of the shm data path. */
function measureInProcess(region: Uint8Array, sources: MediaFrame[], total: number): number {
  let read = 0;
  let next = 0;
  const start = Bun.nanoseconds();
  while (read < total) {
    const writer = new FrameWriter(region, { maxFrames: MAX_FRAMES });
    while (writer.write(sources[next % SOURCES] as MediaFrame) === "ok") next++;
    const seen = consumeFrames(region);
    if (seen.bad !== 0 || seen.frames !== writer.frameCount) {
      throw new Error("in-process read failed");
    }
    read += seen.bytes;
  }
  return read / (Bun.nanoseconds() - start);
}

/** The same bytes, batch by batch, copied with Uint8Array.set into a plain buffer. */
function measurePlainCopy(
  target: Uint8Array,
  sources: MediaFrame[],
  framesPerBatch: number,
  total: number,
): number {
  let copied = 0;
  let next = 0;
  const start = Bun.nanoseconds();
  while (copied < total) {
    let offset = 2048;
    for (let i = 0; i < framesPerBatch; i++) {
      const data = (sources[next++ % SOURCES] as MediaFrame).data;
      target.set(data, offset);
      offset += data.byteLength;
      copied += data.byteLength;
    }
  }
  return copied / (Bun.nanoseconds() - start);
}

/** Alternates bare notifications and fd passes, so that both see the same machine state. */
async function roundTrips(child: Child, channel: FdChannel, fd: number) {
  const notify: number[] = [];
  const fdPass: number[] = [];
  for (let i = 0; i < 2 * (TRIP_WARMUP + TRIP_ROUNDS); i++) {
    const passFd = i % 2 === 1;
    const start = Bun.nanoseconds();
    if (passFd) channel.sendFds([fd]);
    await child.request(passFd ? FD : PING);
    if (i >= 2 * TRIP_WARMUP) (passFd ? fdPass : notify).push((Bun.nanoseconds() - start) / 1000);
  }
  return { notify, fdPass };
}

type Row = {
  frameBytes: number;
  framesPerBatch: number;
  sequential: number[];
  pipelined: number[];
  inProcess: number[];
  plain: number[];
};

/** Every measurement with this process and the child placed as asked. */
async function measurePlacement(placement: Placement) {
  const layout = computeAvBufferLayout({ maxPlaybackSessions: 2, maxWebAudioPlayers: 0 });
  const videoRegions = layout.playback.map((partition) => partition.video);
  using memory = SharedMemory.create(layout.totalSize, { name: "bench-av-buffer" });
  using small = SharedMemory.create(4096, { name: "bench-fd-pass" });
  const [channel, childEnd] = FdChannel.pair();
  using _channel = channel;
  channel.sendFds([memory.fd]);
  const child = await startChild(childEnd.fd, videoRegions, peerCommand(placement));
  childEnd.close();
  using _pinned = pinCaller(placement);
  try {
    const regions = videoRegions.map(({ offset, length }) =>
      memory.bytes.subarray(offset, offset + length),
    );
    const plainTarget = new Uint8Array(regions[0]?.byteLength ?? 0);
    const rows: Row[] = [];
    for (const frameBytes of FRAME_SIZES) {
      const sources = sourcesOf(frameBytes);
      // Warm-up touches both regions and the plain target, so no run pays first-touch faults.
      const { framesPerBatch } = await measureShm(child, regions, sources, 32 << 20);
      measurePlainCopy(plainTarget, sources, framesPerBatch, 32 << 20);
      const row: Row = {
        frameBytes,
        framesPerBatch,
        sequential: [],
        pipelined: [],
        inProcess: [],
        plain: [],
      };
      for (let r = 0; r < ROUNDS; r++) {
        row.sequential.push(
          (await measureShm(child, regions.slice(0, 1), sources, BYTES_PER_ROUND)).gbps,
        );
        row.pipelined.push((await measureShm(child, regions, sources, BYTES_PER_ROUND)).gbps);
        row.plain.push(measurePlainCopy(plainTarget, sources, framesPerBatch, BYTES_PER_ROUND));
        row.inProcess.push(measureInProcess(regions[0] as Uint8Array, sources, BYTES_PER_ROUND));
      }
      rows.push(row);
    }
    const { notify, fdPass } = await roundTrips(child, channel, small.fd);
    return { rows, notify, fdPass };
  } finally {
    await child.close();
  }
}

function printPlacement(
  placement: Placement,
  result: Awaited<ReturnType<typeof measurePlacement>>,
) {
  console.log(`${placement} (this process and the reader)`);
  console.log(
    "frame    frames/  other process:                                 same process,        plain",
  );
  console.log(
    "         batch    sequential       ratio  pipelined        ratio  no notify     ratio  Uint8Array.set",
  );
  const cell = (values: number[]) =>
    `${best(values).toFixed(2).padStart(5)} (${median(values).toFixed(2).padStart(5)})`;
  for (const row of result.rows) {
    const label =
      row.frameBytes >= 1 << 20 ? `${row.frameBytes >> 20} MiB` : `${row.frameBytes >> 10} KiB`;
    const ratio = (values: number[]) => (best(values) / best(row.plain)).toFixed(2).padStart(5);
    const columns = [row.sequential, row.pipelined, row.inProcess].map(
      (v) => `${cell(v)}  ${ratio(v)}`,
    );
    console.log(
      `${label.padEnd(9)}${String(row.framesPerBatch).padStart(6)}   ${columns.join("  ")}  ${cell(row.plain)}`,
    );
  }
  const trip = (samples: number[]) =>
    `p50 ${percentile(samples, 50).toFixed(1)} µs   p99 ${percentile(samples, 99).toFixed(1)} µs`;
  console.log(
    `Round trips, ${TRIP_ROUNDS} of each kind, interleaved, after ${TRIP_WARMUP} warm-up`,
  );
  console.log(`  notification only (16 B on a Bun unix socket)         ${trip(result.notify)}`);
  console.log(`  fd pass (sendFds + notification; child maps, unmaps)  ${trip(result.fdPass)}`);
}

function figures(result: Awaited<ReturnType<typeof measurePlacement>>) {
  return {
    frames: result.rows.map((row) => ({
      frameBytes: row.frameBytes,
      framesPerBatch: row.framesPerBatch,
      sequentialGBps: round2(best(row.sequential)),
      pipelinedGBps: round2(best(row.pipelined)),
      inProcessGBps: round2(best(row.inProcess)),
      plainCopyGBps: round2(best(row.plain)),
      sequentialRatio: round2(best(row.sequential) / best(row.plain)),
      pipelinedRatio: round2(best(row.pipelined) / best(row.plain)),
      inProcessRatio: round2(best(row.inProcess) / best(row.plain)),
      sequentialMedianRatio: round2(median(row.sequential) / median(row.plain)),
      pipelinedMedianRatio: round2(median(row.pipelined) / median(row.plain)),
    })),
    notifyRoundTripP50Us: round2(percentile(result.notify, 50)),
    notifyRoundTripP99Us: round2(percentile(result.notify, 99)),
    fdPassRoundTripP50Us: round2(percentile(result.fdPass, 50)),
    fdPassRoundTripP99Us: round2(percentile(result.fdPass, 99)),
  };
}

async function runParent(): Promise<void> {
  console.log(
    `${ROUNDS} rounds of ${BYTES_PER_ROUND >> 20} MiB per mode; GB/s of the best round (median), ratio = best / best plain copy`,
  );
  const results: Partial<Record<Placement, ReturnType<typeof figures>>> = {};
  for (const placement of placements()) {
    const result = await measurePlacement(placement);
    printPlacement(placement, result);
    results[placement] = figures(result);
  }
  // The headline is the placement where 64 KiB frames fare worse.
  const ratio64 = (f: ReturnType<typeof figures>) =>
    f.frames.find((frame) => frame.frameBytes === 64 << 10)?.sequentialRatio ?? 0;
  const [worst] = Object.values(results).sort((a, b) => ratio64(a) - ratio64(b));
  if (worst === undefined) throw new Error("no placement measured");
  console.log(
    JSON.stringify({
      benchmark: "shm-throughput",
      rounds: ROUNDS,
      bytesPerRound: BYTES_PER_ROUND,
      ...worst,
      placements: results,
    }),
  );
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) {
  await runChild(process.argv[childAt + 1] ?? "", process.argv[childAt + 2] ?? "[]");
} else await runParent();
