// Decryption throughput: the session server's decrypt path against Bun's raw AES-128-CTR over
// the same bytes, measured in the same run. The media are the samples of the CENC-encrypted
// demo clip (apps/demo-app/media/encrypted/clip-cenc.mp4: H.264 with subsamples, AAC whole
// samples, 8-byte IVs). Decrypt path: `createFrameDecryptor` over a `MediaKeysBook` whose key
// session got the clip's key through the ClearKey license exchange: the hook the pipeline engine
// calls for every encrypted frame (one decipher per run of each sample, a new output buffer
// per frame). Baselines: `createDecipheriv("aes-128-ctr")` once over all the sample bytes
// concatenated (bulk), and once per sample over its whole bytes (per sample: the same call
// count, no subsample handling or key lookup). Rounds interleave the three so machine noise
// hits them alike; the table shows the best round and the median. Decrypted bytes are checked
// against the clear clip first. Last line: one JSON object; `ratio` = decrypt path / bulk (best).
import { createDecipheriv } from "node:crypto";
import { join } from "node:path";
import { RegisteredClient } from "@rialto/protocol";
import { createFrameDecryptor } from "@rialto/session-server";
import keyFile from "../apps/demo-app/media/encrypted/key.json";
import { demuxEncryptedMp4, demuxMp4File } from "../apps/demo-app/src/mp4/index.ts";
import { ClientState, MediaKeysBook } from "../packages/session-server/src/clients/index.ts";

const ROUNDS = 9;
/** Passes over the whole clip per measurement (about 64 MiB of samples). */
const PASSES = 240;
const MEDIA = join(import.meta.dir, "../apps/demo-app/media/encrypted");

/** A MediaKeysBook holding the clip's key, licensed the way a client gets it. */
function licensedBook(): { book: MediaKeysBook; keySessionId: number } {
  // The book needs a registered client to send its events to; nobody listens here.
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
const tracks = demuxEncryptedMp4(await Bun.file(join(MEDIA, keyFile.file)).bytes(), keyFile.file);
const frames = [...tracks.values()].flat().map(({ data, encryption }) => ({
  data,
  encryption: { ...encryption, keySessionId },
}));
const bytesPerPass = frames.reduce((sum, frame) => sum + frame.data.byteLength, 0);

// The decrypt path must give the clear clip's samples, or the figures mean nothing.
const clear = await demuxMp4File(join(MEDIA, keyFile.clearFile));
const clearSamples = [...tracks.keys()].flatMap(
  (id) => clear.tracks.find((track) => track.id === id)?.samples ?? [],
);
frames.forEach((frame, index) => {
  if (Buffer.compare(decrypt(frame), clearSamples[index]?.data ?? new Uint8Array()) !== 0) {
    throw new Error(`sample ${index} does not decrypt to the clear clip's bytes`);
  }
});

const key = Uint8Array.fromHex(keyFile.key);
const iv = new Uint8Array(16);
const concatenated = Buffer.concat(frames.map((frame) => frame.data));
let sink = 0;

/** MB/s (10^6 bytes) of `run`, which handles `bytesPerPass` bytes per call, over PASSES calls. */
function measure(run: () => void): number {
  const start = Bun.nanoseconds();
  for (let pass = 0; pass < PASSES; pass++) run();
  return (bytesPerPass * PASSES) / ((Bun.nanoseconds() - start) / 1e9) / 1e6;
}

const decryptPath = () => {
  for (const frame of frames) sink += decrypt(frame).byteLength;
};
const rawBulk = () => {
  const decipher = createDecipheriv("aes-128-ctr", key, iv);
  sink += decipher.update(concatenated).byteLength + decipher.final().byteLength;
};
const rawPerSample = () => {
  for (const frame of frames) {
    const decipher = createDecipheriv("aes-128-ctr", key, iv);
    sink += decipher.update(frame.data).byteLength + decipher.final().byteLength;
  }
};

// Warm-up: JIT and OpenSSL code paths.
measure(decryptPath);
measure(rawBulk);
measure(rawPerSample);
const rounds = {
  decryptPath: [] as number[],
  rawBulk: [] as number[],
  rawPerSample: [] as number[],
};
for (let round = 0; round < ROUNDS; round++) {
  rounds.decryptPath.push(measure(decryptPath));
  rounds.rawBulk.push(measure(rawBulk));
  rounds.rawPerSample.push(measure(rawPerSample));
}

const best = (values: number[]) => Math.max(...values);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const round1 = (value: number) => Math.round(value * 10) / 10;
const row = (name: string, values: number[]) =>
  `  ${name.padEnd(44)} ${best(values).toFixed(0).padStart(7)} MB/s   ${median(values).toFixed(0).padStart(7)} MB/s`;

console.log(
  `Decryption of the CENC demo clip: ${frames.length} samples, ${bytesPerPass} bytes per pass, ` +
    `${PASSES} passes per measurement, ${ROUNDS} rounds (sink ${sink > 0 ? "ok" : "empty"})`,
);
console.log(`  ${"".padEnd(44)} ${"best".padStart(12)}   ${"median".padStart(12)}`);
console.log(row("decrypt path (createFrameDecryptor, per frame)", rounds.decryptPath));
console.log(row("raw aes-128-ctr, one decipher over all bytes", rounds.rawBulk));
console.log(row("raw aes-128-ctr, one decipher per sample", rounds.rawPerSample));
console.log(
  JSON.stringify({
    benchmark: "decrypt",
    samples: frames.length,
    bytesPerPass,
    passes: PASSES,
    rounds: ROUNDS,
    decryptPathMBps: round1(best(rounds.decryptPath)),
    rawBulkMBps: round1(best(rounds.rawBulk)),
    rawPerSampleMBps: round1(best(rounds.rawPerSample)),
    decryptPathMedianMBps: round1(median(rounds.decryptPath)),
    rawBulkMedianMBps: round1(median(rounds.rawBulk)),
    ratio: Math.round((best(rounds.decryptPath) / best(rounds.rawBulk)) * 1000) / 1000,
    ratioPerSample:
      Math.round((best(rounds.decryptPath) / best(rounds.rawPerSample)) * 1000) / 1000,
  }),
);
