import { RialtoError, toRialtoError } from "@rialto/protocol";
import { type Box, findBox, mp4Error, readBoxes } from "./box-reader.ts";
import type { DemuxedMovie, DemuxedSample, DemuxedTrack, SkippedTrack } from "./demuxed-movie.ts";
import { readPssh, type SampleEncryptionInfo } from "./encryption-info.ts";
import { type FragmentTrack, readMovieFragments } from "./movie-fragments.ts";
import type { RawSample } from "./raw-sample.ts";
import type { CodecDescription, SampleEntry } from "./sample-entry.ts";
import { readSampleTable } from "./sample-table.ts";
import type { Edit, MovieBoxes, TrackBoxes } from "./track-boxes.ts";
import { readMovieBoxes } from "./track-boxes.ts";

const NS_PER_SECOND = 1_000_000_000n;

/** Converts `ticks` of a `timescale`-Hz clock to nanoseconds, rounded to the nearest. */
export function ticksToNs(ticks: number, timescale: number): number {
  if (ticks < 0) return -ticksToNs(-ticks, timescale);
  const scale = BigInt(timescale);
  return Number((BigInt(ticks) * NS_PER_SECOND + scale / 2n) / scale);
}

/** `value` of one timescale in another, rounded to the nearest (as ffmpeg's av_rescale). */
function rescale(value: number, from: number, to: number): number {
  const f = BigInt(from);
  return Number((BigInt(value) * BigInt(to) + f / 2n) / f);
}

/**
 * The shift of an edit list, in media ticks, added to every decode and composition time: the
 * leading empty edits (a delay) minus the media time where the first real edit starts (what the
 * presentation skips: B-frame delay, encoder priming). Only the first real edit is applied; what
 * later edits would cut or repeat is played as stored (no file of the test set needs more).
 */
function editShift(edits: readonly Edit[], movieTimescale: number, timescale: number): number {
  let empty = 0;
  for (const edit of edits) {
    if (edit.mediaTime === -1) {
      empty += edit.segmentDuration;
      continue;
    }
    return rescale(empty, movieTimescale, timescale) - edit.mediaTime;
  }
  return 0;
}

function isPlayable(codec: SampleEntry["codec"]): codec is CodecDescription {
  return "mimeType" in codec;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

function encryptionOf(
  file: string,
  track: TrackBoxes,
  entry: SampleEntry,
  raw: RawSample,
  index: number,
): SampleEncryptionInfo | undefined {
  const protection = entry.protection;
  if (protection === undefined || !protection.defaults.isProtected) return undefined;
  const { defaults } = protection;
  const iv = defaults.perSampleIvSize === 0 ? defaults.constantIv : raw.aux?.iv;
  if (iv === undefined || (raw.aux === undefined && defaults.perSampleIvSize > 0)) {
    throw mp4Error(
      file,
      `track ${track.id} sample ${index} is encrypted and has no senc/saiz entry`,
    );
  }
  const cipherMode = protection.scheme === "cbcs" ? "cbcs" : "cenc";
  return {
    cipherMode,
    keyId: defaults.keyId,
    iv,
    subsamples: raw.aux?.subsamples ?? [],
    ...(cipherMode === "cbcs"
      ? {
          pattern: {
            cryptByteBlock: defaults.cryptByteBlock,
            skipByteBlock: defaults.skipByteBlock,
          },
        }
      : {}),
  };
}

function demuxTrack(
  file: string,
  bytes: Uint8Array,
  movie: MovieBoxes,
  track: TrackBoxes,
  raw: readonly RawSample[],
): DemuxedTrack | SkippedTrack {
  const skip = (reason: string): SkippedTrack => ({ id: track.id, handler: track.handler, reason });
  const first = raw[0];
  if (track.handler !== "vide" && track.handler !== "soun") {
    return skip(
      track.entries[0]?.codec && "unsupported" in track.entries[0].codec
        ? track.entries[0].codec.unsupported
        : `a ${track.handler} track`,
    );
  }
  if (first === undefined) return skip("no samples");
  const entryOf = (sample: RawSample, index: number): SampleEntry => {
    const entry = track.entries[sample.entryIndex];
    if (entry === undefined) {
      throw mp4Error(
        file,
        `track ${track.id} sample ${index} names sample description ${sample.entryIndex + 1}, which it does not have`,
      );
    }
    return entry;
  };
  const firstEntry = entryOf(first, 0);
  if (!isPlayable(firstEntry.codec)) return skip(firstEntry.codec.unsupported);
  const shift = editShift(track.edits, movie.timescale, track.timescale);
  const ns = (ticks: number) => ticksToNs(ticks, track.timescale);
  const keyIds = new Set<string>();
  let scheme: string | undefined;
  let codecData = firstEntry.codec.codecData;
  const samples = raw.map((sample, index): DemuxedSample => {
    const { offset, size } = sample;
    if (offset < 0 || offset + size > bytes.byteLength) {
      throw mp4Error(
        file,
        `track ${track.id} sample ${index}: bytes ${offset}..${offset + size} are outside the ${bytes.byteLength}-byte file`,
      );
    }
    const entry = entryOf(sample, index);
    if (!isPlayable(entry.codec)) {
      throw mp4Error(file, `track ${track.id} sample ${index} uses ${entry.codec.unsupported}`);
    }
    const encryption = encryptionOf(file, track, entry, sample, index);
    if (encryption !== undefined) {
      keyIds.add(encryption.keyId.toHex());
      scheme = entry.protection?.scheme;
    }
    const pts = sample.dts + sample.ctsOffset + shift;
    const dts = sample.dts + shift;
    const changed = !equalBytes(entry.codec.codecData, codecData);
    codecData = entry.codec.codecData;
    return {
      data: bytes.subarray(offset, offset + size),
      timestampNs: ns(pts),
      decodeTimestampNs: ns(dts),
      durationNs: ns(sample.duration),
      pts,
      dts,
      duration: sample.duration,
      isSync: sample.isSync || track.handler === "soun",
      discard: pts + sample.duration <= 0,
      ...(changed ? { codecData: entry.codec.codecData } : {}),
      ...(encryption === undefined ? {} : { encryption }),
    };
  });
  // A loop, not Math.max(...): a long movie has more samples than a call takes arguments.
  const endNs = samples.reduce((end, s) => Math.max(end, s.timestampNs + s.durationNs), 0);
  const codec = firstEntry.codec;
  const common = {
    id: track.id,
    codec: codec.codec,
    mimeType: codec.mimeType,
    codecData: codec.codecData,
    timescale: track.timescale,
    durationNs: Math.max(0, endNs),
    samples,
    keyIds: [...keyIds],
    ...(scheme === undefined ? {} : { scheme }),
  };
  if (track.handler === "vide") {
    return {
      type: "video",
      ...common,
      width: firstEntry.width ?? 0,
      height: firstEntry.height ?? 0,
    };
  }
  return {
    type: "audio",
    ...common,
    sampleRate: codec.sampleRate ?? 0,
    channels: codec.channels ?? 0,
  };
}

function ivSizeOf(track: TrackBoxes, entryIndex: number): number | undefined {
  const defaults = track.entries[entryIndex]?.protection?.defaults;
  return defaults?.isProtected ? defaults.perSampleIvSize : undefined;
}

/** {@link demuxMp4}, synchronous: the same result and errors. */
export function readMp4(bytes: Uint8Array, file = "(bytes)"): DemuxedMovie {
  try {
    return readMp4Unchecked(bytes, file);
  } catch (error) {
    if (error instanceof RialtoError) throw error;
    throw mp4Error(file, `is not a readable MP4: ${toRialtoError(error).message}`, error);
  }
}

function readMp4Unchecked(bytes: Uint8Array, file: string): DemuxedMovie {
  const topLevel = readBoxes(file, bytes, 0, bytes.byteLength, { allowTruncatedLast: true });
  const moovBox = findBox(topLevel, "moov");
  if (moovBox === undefined) throw mp4Error(file, "has no movie box (moov): not an MP4");
  const movie = readMovieBoxes(file, bytes, moovBox);
  const fragmentTracks = new Map<number, FragmentTrack>();
  const rawSamples = new Map<number, RawSample[]>();
  for (const track of movie.tracks) {
    const samples = readSampleTable(file, bytes, track.stbl, ivSizeOf(track, 0));
    rawSamples.set(track.id, samples);
    const last = samples.at(-1);
    fragmentTracks.set(track.id, {
      defaults: movie.trackDefaults.get(track.id) ?? {
        sampleDescriptionIndex: 1,
        sampleDuration: 0,
        sampleSize: 0,
        sampleFlags: 0,
      },
      ivSizeOf: (entryIndex) => ivSizeOf(track, entryIndex),
      samples,
      nextDts: last === undefined ? 0 : last.dts + last.duration,
    });
  }
  const fragmentPssh = readMovieFragments(file, bytes, topLevel, fragmentTracks);
  const tracks: DemuxedTrack[] = [];
  const skipped: SkippedTrack[] = [];
  for (const track of movie.tracks) {
    const result = demuxTrack(file, bytes, movie, track, rawSamples.get(track.id) ?? []);
    if ("reason" in result) skipped.push(result);
    else tracks.push(result);
  }
  if (tracks.length === 0) {
    const why = skipped.map((s) => `track ${s.id}: ${s.reason}`).join("; ");
    throw mp4Error(file, `has no playable audio or video track${why ? ` (${why})` : ""}`);
  }
  const movieNs = ticksToNs(movie.duration, movie.timescale);
  const durationNs = movieNs > 0 ? movieNs : Math.max(...tracks.map((t) => t.durationNs));
  const pssh = [...movie.pssh, ...fragmentPssh].map((box: Box) => readPssh(file, bytes, box));
  return { durationNs, tracks, skipped, pssh };
}

/**
 * Splits an MP4 (ISO BMFF) file, progressive or fragmented (several `trun` per `traf`, `sidx`,
 * DASH init + media segments appended), into its H.264 / H.265 / AAC / Opus / AC-3 / E-AC-3
 * tracks. Sample bytes are views of `bytes` (nothing is copied; do not modify `bytes` while
 * they are in use). Times have the edit list applied as ffmpeg does (see {@link DemuxedSample}),
 * audio parameters come from the codec configuration, and encrypted samples (`cenc`, `cbcs`)
 * carry their IV, subsamples and key id. Other tracks are listed in `skipped` with the reason.
 *
 * @param bytes - the whole file
 * @param name - the file name, used in error messages
 * @throws RialtoError `INVALID_ARGUMENT` naming the file when it is not an MP4, is malformed
 *   (a box, table or sample outside its bounds) or has no playable audio or video track.
 */
export async function demuxMp4(bytes: Uint8Array, name = "(bytes)"): Promise<DemuxedMovie> {
  return readMp4(bytes, name);
}
