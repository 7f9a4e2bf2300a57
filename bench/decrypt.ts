// Decryption throughput: decrypted media bytes/s through the session server's pipeline against
// Bun's raw AES-128-CTR over the same bytes, measured in the same run. The media are the
// samples of the CENC-encrypted demo clip (apps/demo-app/media/encrypted/clip-cenc.mp4: H.264
// with subsamples, AAC whole samples, 8-byte IVs), repeated with shifted timestamps.
//
// - pipeline, encrypted: a virtual pipeline (freerun clock, null sink, the engine's timers run
//   by a manual clock so no event-loop wait is measured) whose `decrypt` hook is what the
//   session server wires: `createFrameDecryptor` over a `MediaKeysBook` whose key session got
//   the clip's key through the ClearKey license exchange. Frames are pushed as the data side
//   pushes them (24 per request while playing) and played to EndOfStream.
// - pipeline, clear: the same pipeline and frames, clear (the pipeline's own cost).
// - decrypt hook alone: the same hook called once per frame (no pipeline).
// - raw aes-128-ctr: `createDecipheriv` once over all the sample bytes concatenated (bulk),
//   and once per sample over its whole bytes (the same call count, no subsamples, no lookup).
//
// Rounds interleave the measurements so machine noise hits them alike; the table shows the best
// round and the median. Decrypted bytes are checked against the clear clip first, and the two
// pipelines' checksum sinks must agree. Last line: one JSON object; `ratio` = pipeline
// (encrypted) / raw bulk, best rounds.
import { createCipheriv, createDecipheriv } from "node:crypto";
import { join } from "node:path";
import { RegisteredClient } from "@rialto/protocol";
import { createFrameDecryptor } from "@rialto/session-server";
import {
  aesDecryptor,
  ClientState,
  MediaKeysBook,
  PipelineHarness,
} from "@rialto/session-server/testing";
import type { MediaFrame } from "@rialto/shm";
import keyFile from "../apps/demo-app/media/encrypted/key.json";
import { demuxEncryptedMp4, demuxMp4File, toMediaFrame } from "../apps/demo-app/src/mp4/index.ts";
import { best, median, roundTo } from "./support/measure.ts";
import { quick } from "./support/quick.ts";

const ROUNDS = quick(9, 2);
/** Passes over the clip per measurement (about 43 MB of samples). */
const PASSES = quick(160, 20);
const MEDIA = join(import.meta.dir, "../apps/demo-app/media/encrypted");

/** A MediaKeysBook holding the clip's key, licensed the way a client gets it. */
function licensedBook(): { book: MediaKeysBook; keySessionId: number } {
  // The book sends its events to a registered client; nobody listens here.
  const client = new RegisteredClient<ClientState>(
    1,
    { maxUnackedCalls: 64, maxUnackedEvents: 1_000_000 },
    () => performance.now(),
  );
  client.session = new ClientState();
  const book = new MediaKeysBook();
  const mediaKeysId = book.create(client, "org.w3.clearkey");
  const keySessionId = book.createKeySession(client, { mediaKeysId, sessionType: "temporary" });
  const mediaKeys = book.holderOf(client, keySessionId, "bench");
  mediaKeys.generateRequest(keySessionId, "cenc", Uint8Array.fromBase64(keyFile.cencInitData));
  mediaKeys.updateSession(keySessionId, new TextEncoder().encode(JSON.stringify(keyFile.license)));
  return { book, keySessionId };
}

const { book, keySessionId } = licensedBook();
const decrypt = createFrameDecryptor(book);
const encrypted = demuxEncryptedMp4(
  await Bun.file(join(MEDIA, keyFile.file)).bytes(),
  keyFile.file,
);
const clear = await demuxMp4File(join(MEDIA, keyFile.clearFile));

/** Per track of the clip: its frames for source `sourceId`, clear and encrypted, over PASSES passes. */
function framesOf(sourceId: number, trackIndex: number) {
  const track = clear.tracks[trackIndex];
  const samples = encrypted.get(track?.id ?? -1);
  if (track === undefined || samples?.length !== track.samples.length) {
    throw new Error(`track ${trackIndex} of the clips does not match`);
  }
  const clearFrames: MediaFrame[] = [];
  const encryptedFrames: MediaFrame[] = [];
  for (let pass = 0; pass < PASSES; pass++) {
    track.samples.forEach((sample, index) => {
      const frame = toMediaFrame(track, sample, sourceId);
      const shifted = { ...frame, timestampNs: frame.timestampNs + pass * clear.durationNs };
      const { data, encryption } = samples[index] as (typeof samples)[number];
      clearFrames.push(shifted);
      encryptedFrames.push({ ...shifted, data, encryption: { ...encryption, keySessionId } });
    });
  }
  return { clear: clearFrames, encrypted: encryptedFrames };
}

const frameSets = clear.tracks.map((_, index) => framesOf(index + 1, index));
const onePass = (set: "clear" | "encrypted") =>
  frameSets.flatMap((frames) => frames[set].slice(0, frames[set].length / PASSES));
const bytesPerPass = onePass("clear").reduce((sum, frame) => sum + frame.data.byteLength, 0);
const bytesPerMeasurement = bytesPerPass * PASSES;

// The hook must give the clear clip's samples, or the figures mean nothing.
const clearPass = onePass("clear");
onePass("encrypted").forEach((frame, index) => {
  if (Buffer.compare(decrypt(frame), clearPass[index]?.data ?? new Uint8Array()) !== 0) {
    throw new Error(`sample ${index} does not decrypt to the clear clip's bytes`);
  }
});

/** Plays every frame of `set` through a fresh virtual pipeline to EndOfStream; returns its stats. */
function playThroughPipeline(set: "clear" | "encrypted", sink: "null" | "checksum") {
  const harness = new PipelineHarness({ clock: "freerun", sink }, { decrypt });
  const sourceIds = harness.attach(...clear.tracks.map((track) => track.type));
  sourceIds.forEach((sourceId, index) => {
    harness.script(sourceId, frameSets[index]?.[set] ?? []);
  });
  harness.pipeline.play();
  harness.runUntilSettled(100_000);
  if (harness.pipeline.state !== "EndOfStream") {
    throw new Error(`the ${set} pipeline ended in ${harness.pipeline.state}`);
  }
  const stats = sourceIds.map((sourceId) => harness.pipeline.getStats(sourceId));
  harness.pipeline.destroy();
  return stats;
}

// Both pipelines render every byte, and the same clear bytes.
const checkedClear = playThroughPipeline("clear", "checksum");
const checkedEncrypted = playThroughPipeline("encrypted", "checksum");
for (const [index, stats] of checkedEncrypted.entries()) {
  const reference = checkedClear[index];
  if (stats.checksum !== reference?.checksum || stats.droppedFrames !== 0) {
    throw new Error(`source ${index + 1}: the encrypted pipeline rendered other bytes`);
  }
}
// Every byte the clear pipeline renders (the AAC priming samples are clipped by both).
const renderedBytes = (stats: typeof checkedClear) =>
  stats.reduce((sum, source) => sum + source.renderedBytes, 0);
if (renderedBytes(checkedEncrypted) !== renderedBytes(checkedClear)) {
  throw new Error("the encrypted pipeline did not render every byte the clear one did");
}

const key = Uint8Array.fromHex(keyFile.key);
const iv = new Uint8Array(16);
const encryptedPass = onePass("encrypted");
const concatenated = Buffer.concat(encryptedPass.map((frame) => frame.data));
let sink = 0;

// Video-sized samples: 16 KiB each, a 32-byte clear header then CTR over the rest (one
// subsample, as H.264 slices are packaged), the clip's key id, a fresh 8-byte IV per sample.
const LARGE = 16 * 1024;
const largeCount = Math.ceil(bytesPerMeasurement / LARGE);
const videoIndex = clear.tracks.findIndex((track) => track.type === "video");
const videoTemplate = frameSets[videoIndex]?.encrypted[0] as MediaFrame;
const largeFrames: MediaFrame[] = [];
const largeClear: Uint8Array[] = [];
for (let i = 0; i < largeCount; i++) {
  const plain = crypto.getRandomValues(new Uint8Array(LARGE));
  const iv8 = crypto.getRandomValues(new Uint8Array(8));
  const iv16 = new Uint8Array(16);
  iv16.set(iv8);
  const data = new Uint8Array(plain);
  data.set(createCipheriv("aes-128-ctr", key, iv16).update(plain.subarray(32)), 32);
  largeClear.push(plain);
  largeFrames.push({
    ...videoTemplate,
    sourceId: 1,
    timestampNs: i * 40_000_000,
    durationNs: 40_000_000,
    data,
    encryption: {
      ...(videoTemplate.encryption as NonNullable<MediaFrame["encryption"]>),
      iv: iv8,
      subsamples: [{ clearBytes: 32, encryptedBytes: LARGE - 32 }],
    },
  } as MediaFrame);
}
const largeBytes = largeCount * LARGE;
const largeConcatenated = Buffer.concat(largeFrames.map((frame) => frame.data));
largeFrames.slice(0, 8).forEach((frame, index) => {
  if (Buffer.compare(decrypt(frame), largeClear[index] as Uint8Array) !== 0) {
    throw new Error(`16 KiB sample ${index} does not decrypt to its clear bytes`);
  }
});

/** Plays the 16 KiB frames through a fresh virtual pipeline (one video source) to EndOfStream. */
function playLargeThroughPipeline() {
  const harness = new PipelineHarness({ clock: "freerun", sink: "null" }, { decrypt });
  const [sourceId] = harness.attach("video");
  harness.script(sourceId as number, largeFrames);
  harness.pipeline.play();
  harness.runUntilSettled(100_000);
  if (harness.pipeline.state !== "EndOfStream") {
    throw new Error(`the 16 KiB pipeline ended in ${harness.pipeline.state}`);
  }
  const rendered = harness.pipeline.getStats(sourceId as number).renderedBytes;
  harness.pipeline.destroy();
  return rendered;
}
if (playLargeThroughPipeline() !== largeBytes) throw new Error("16 KiB frames not all rendered");

const largeNames = new Set(["pipelineEncrypted16k", "rawBulk16k"]);

/** MB/s (10^6 bytes) of `run`, which handles the bytes of its sample set. */
function measure(run: () => void, bytes = bytesPerMeasurement): number {
  const start = Bun.nanoseconds();
  run();
  return bytes / ((Bun.nanoseconds() - start) / 1e9) / 1e6;
}

const measurements = {
  pipelineEncrypted: () => {
    sink += playThroughPipeline("encrypted", "null").length;
  },
  pipelineClear: () => {
    sink += playThroughPipeline("clear", "null").length;
  },
  decryptHook: () => {
    for (let pass = 0; pass < PASSES; pass++) {
      for (const frame of encryptedPass) sink += decrypt(frame).byteLength;
    }
  },
  rawBulk: () => {
    for (let pass = 0; pass < PASSES; pass++) {
      const decipher = createDecipheriv("aes-128-ctr", key, iv);
      sink += decipher.update(concatenated).byteLength + decipher.final().byteLength;
    }
  },
  pipelineEncrypted16k: () => {
    sink += playLargeThroughPipeline();
  },
  rawBulk16k: () => {
    const decipher = createDecipheriv("aes-128-ctr", key, iv);
    sink += decipher.update(largeConcatenated).byteLength + decipher.final().byteLength;
  },
  rawPerSample: () => {
    for (let pass = 0; pass < PASSES; pass++) {
      for (const frame of encryptedPass) {
        const decipher = createDecipheriv("aes-128-ctr", key, iv);
        sink += decipher.update(frame.data).byteLength + decipher.final().byteLength;
      }
    }
  },
};
type Name = keyof typeof measurements;
const names = Object.keys(measurements) as Name[];

// Warm-up: JIT and OpenSSL code paths.
const bytesOf = (name: Name) => (largeNames.has(name) ? largeBytes : bytesPerMeasurement);
for (const name of names) measure(measurements[name], bytesOf(name));
const rounds = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<
  Name,
  number[]
>;
for (let round = 0; round < ROUNDS; round++) {
  for (const name of names) rounds[name].push(measure(measurements[name], bytesOf(name)));
}

const labels: Record<Name, string> = {
  pipelineEncrypted: "pipeline, encrypted (decrypt hook, null sink)",
  pipelineClear: "pipeline, clear (same frames, no decryption)",
  decryptHook: "decrypt hook alone (createFrameDecryptor)",
  rawBulk: "raw aes-128-ctr, one decipher over all bytes",
  rawPerSample: "raw aes-128-ctr, one decipher per sample",
  pipelineEncrypted16k: "16 KiB samples: pipeline, encrypted",
  rawBulk16k: "16 KiB samples: raw aes-128-ctr, one decipher",
};

console.log(
  `Decryption of the CENC demo clip: ${encryptedPass.length} samples, ${bytesPerPass} bytes per pass, ` +
    `${PASSES} passes (${bytesPerMeasurement} bytes) per measurement, ${ROUNDS} rounds (sink ${sink > 0 ? "ok" : "empty"}); ` +
    `the session server decrypts with ${aesDecryptor().name}; the raw baselines are Bun's node:crypto`,
);
console.log(`  ${"".padEnd(48)} ${"best".padStart(12)}   ${"median".padStart(12)}`);
for (const name of names) {
  const values = rounds[name];
  console.log(
    `  ${labels[name].padEnd(48)} ${best(values).toFixed(0).padStart(7)} MB/s   ${median(values).toFixed(0).padStart(7)} MB/s`,
  );
}
const goals = {
  perSample: best(rounds.pipelineEncrypted) / best(rounds.rawPerSample) >= 0.7,
  bulk16k: best(rounds.pipelineEncrypted16k) / best(rounds.rawBulk16k) >= 0.5,
};
console.log(
  `goals: pipeline ≥ 0.7 of one decipher per sample ${goals.perSample ? "met" : "NOT met"}, ≥ 0.5 of bulk on 16 KiB samples ${goals.bulk16k ? "met" : "NOT met"}`,
);
console.log(
  JSON.stringify({
    benchmark: "decrypt",
    samples: encryptedPass.length,
    bytesPerMeasurement,
    rounds: ROUNDS,
    pipelineEncryptedMBps: roundTo(best(rounds.pipelineEncrypted), 1),
    pipelineClearMBps: roundTo(best(rounds.pipelineClear), 1),
    decryptHookMBps: roundTo(best(rounds.decryptHook), 1),
    rawBulkMBps: roundTo(best(rounds.rawBulk), 1),
    rawPerSampleMBps: roundTo(best(rounds.rawPerSample), 1),
    pipelineEncryptedMedianMBps: roundTo(median(rounds.pipelineEncrypted), 1),
    rawBulkMedianMBps: roundTo(median(rounds.rawBulk), 1),
    ratio: roundTo(best(rounds.pipelineEncrypted) / best(rounds.rawBulk), 3),
    ratioToPerSample: roundTo(best(rounds.pipelineEncrypted) / best(rounds.rawPerSample), 3),
    ratioHookToBulk: roundTo(best(rounds.decryptHook) / best(rounds.rawBulk), 3),
    pipelineEncrypted16kMBps: roundTo(best(rounds.pipelineEncrypted16k), 1),
    rawBulk16kMBps: roundTo(best(rounds.rawBulk16k), 1),
    ratio16k: roundTo(best(rounds.pipelineEncrypted16k) / best(rounds.rawBulk16k), 3),
    crypto: aesDecryptor().name,
  }),
);
