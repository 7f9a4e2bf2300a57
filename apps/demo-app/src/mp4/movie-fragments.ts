import { type Box, BoxCursor, childBoxes, findBox, mp4Error } from "./box-reader.ts";
import { readAuxiliaryBoxes } from "./encryption-info.ts";
import type { RawSample } from "./raw-sample.ts";
import type { TrackFragmentDefaults } from "./track-boxes.ts";

/** `sample_is_non_sync_sample` and `sample_depends_on` = 1 (ISO/IEC 14496-12 section 8.8.3.1). */
const NON_SYNC = 0x10000;
const DEPENDS_ON_OTHERS = 0x1000000;

/** What the fragment reader needs to know about a track from the movie box. */
export interface FragmentTrack {
  readonly defaults: TrackFragmentDefaults;
  /** The per-sample IV size of a sample description (0-based), or undefined when it is clear. */
  ivSizeOf(entryIndex: number): number | undefined;
  /** Samples read so far, in decode order; the reader appends. */
  readonly samples: RawSample[];
  /** Decode time where the next fragment starts when it has no `tfdt`. */
  nextDts: number;
}

interface TrackRun {
  readonly dataOffset: number | undefined;
  readonly samples: {
    duration: number;
    size: number;
    flags: number;
    ctsOffset: number;
  }[];
}

function readTrun(
  c: BoxCursor,
  defaults: { duration: number; size: number; flags: number },
): TrackRun {
  const { version, flags } = c.fullBoxHeader();
  const count = c.u32();
  const dataOffset = flags & 0x1 ? c.i32() : undefined;
  const firstFlags = flags & 0x4 ? c.u32() : undefined;
  const fieldBytes = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length * 4;
  if (count * fieldBytes > c.remaining || (fieldBytes === 0 && count > c.bytes.byteLength)) {
    throw c.invalid(`${count} samples it has no room for`);
  }
  const samples: TrackRun["samples"] = [];
  for (let i = 0; i < count; i++) {
    const duration = flags & 0x100 ? c.u32() : defaults.duration;
    const size = flags & 0x200 ? c.u32() : defaults.size;
    const sampleFlags =
      flags & 0x400 ? c.u32() : i === 0 && firstFlags !== undefined ? firstFlags : defaults.flags;
    const ctsOffset = flags & 0x800 ? (version === 0 ? c.u32() : c.i32()) : 0;
    samples.push({ duration, size, flags: sampleFlags, ctsOffset });
  }
  return { dataOffset, samples };
}

function readTraf(
  file: string,
  bytes: Uint8Array,
  moof: Box,
  traf: Box,
  tracks: ReadonlyMap<number, FragmentTrack>,
  previousEnd: number | undefined,
): number | undefined {
  const boxes = childBoxes(file, bytes, traf);
  const tfhdBox = findBox(boxes, "tfhd");
  if (tfhdBox === undefined)
    throw mp4Error(file, `has a traf at offset ${traf.start} without tfhd`);
  const tfhd = new BoxCursor(file, bytes, tfhdBox);
  const { flags } = tfhd.fullBoxHeader();
  const trackId = tfhd.u32();
  const track = tracks.get(trackId);
  if (track === undefined) return previousEnd;
  const explicitBase = flags & 0x1 ? tfhd.u64() : undefined;
  const entryIndex = (flags & 0x2 ? tfhd.u32() : track.defaults.sampleDescriptionIndex) - 1;
  const duration = flags & 0x8 ? tfhd.u32() : track.defaults.sampleDuration;
  const size = flags & 0x10 ? tfhd.u32() : track.defaults.sampleSize;
  const sampleFlags = flags & 0x20 ? tfhd.u32() : track.defaults.sampleFlags;
  // Without base-data-offset: the moof (default-base-is-moof, or the first traf), else where
  // the previous traf's data ended (ISO/IEC 14496-12 section 8.8.7.1).
  const base =
    explicitBase ?? (flags & 0x20000 || previousEnd === undefined ? moof.start : previousEnd);

  const tfdtBox = findBox(boxes, "tfdt");
  let dts = track.nextDts;
  if (tfdtBox !== undefined) {
    const tfdt = new BoxCursor(file, bytes, tfdtBox);
    const { version } = tfdt.fullBoxHeader();
    dts = version === 1 ? tfdt.u64() : tfdt.u32();
  }
  const ivSize = track.ivSizeOf(entryIndex);
  const runs = boxes
    .filter((b) => b.type === "trun")
    .map((b) => readTrun(new BoxCursor(file, bytes, b), { duration, size, flags: sampleFlags }));
  const count = runs.reduce((sum, run) => sum + run.samples.length, 0);
  const aux =
    ivSize === undefined ? undefined : readAuxiliaryBoxes(file, bytes, boxes, base, ivSize, count);

  let offset = base;
  let index = 0;
  for (const run of runs) {
    // Each run with a data_offset starts there; one without continues after the previous run.
    if (run.dataOffset !== undefined) offset = base + run.dataOffset;
    for (const s of run.samples) {
      const sampleAux = aux?.[index];
      track.samples.push({
        offset,
        size: s.size,
        dts,
        ctsOffset: s.ctsOffset,
        duration: s.duration,
        isSync: (s.flags & (NON_SYNC | DEPENDS_ON_OTHERS)) === 0,
        entryIndex,
        ...(sampleAux === undefined ? {} : { aux: sampleAux }),
      });
      offset += s.size;
      dts += s.duration;
      index++;
    }
  }
  track.nextDts = dts;
  return offset;
}

/**
 * Appends the samples of every movie fragment (`moof`) among `topLevel` to their tracks, in
 * file order: `tfhd` defaults over `trex`'s, `tfdt` decode times, every `trun` of a `traf` at its
 * own data offset, and per-fragment `senc` (or `saiz`/`saio`). Returns the `pssh` boxes found in
 * the fragments.
 */
export function readMovieFragments(
  file: string,
  bytes: Uint8Array,
  topLevel: readonly Box[],
  tracks: ReadonlyMap<number, FragmentTrack>,
): Box[] {
  const pssh: Box[] = [];
  for (const moof of topLevel) {
    if (moof.type !== "moof") continue;
    let previousEnd: number | undefined;
    for (const box of childBoxes(file, bytes, moof)) {
      if (box.type === "traf") previousEnd = readTraf(file, bytes, moof, box, tracks, previousEnd);
      else if (box.type === "pssh") pssh.push(box);
    }
  }
  return pssh;
}
