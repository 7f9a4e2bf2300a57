import { type Box, BoxCursor, childBoxes, findBox, mp4Error } from "./box-reader.ts";
import { readSampleEntry, type SampleEntry } from "./sample-entry.ts";

/** One entry of an edit list (`elst`), times in the movie's (duration) and media's (time) scale. */
export interface Edit {
  /** Duration of the edit in the movie timescale. */
  readonly segmentDuration: number;
  /** Start of the edit in the media timescale; -1 for an empty edit. */
  readonly mediaTime: number;
}

/** The boxes of one `trak` that the demuxer needs, read. */
export interface TrackBoxes {
  readonly id: number;
  /** `mdia/hdlr` handler type: `vide`, `soun`, `text`, `clcp`, ... */
  readonly handler: string;
  /** Ticks per second of the media (`mdhd`). */
  readonly timescale: number;
  /** Duration in the media timescale (`mdhd`; 0 in most fragmented files). */
  readonly duration: number;
  readonly edits: readonly Edit[];
  /** The sample descriptions (`stsd` entries) in order: index 0 is sample description 1. */
  readonly entries: readonly SampleEntry[];
  /** The sample table box, read by `readSampleTable`. */
  readonly stbl: Box;
}

/** What the movie box says: timescale, duration, tracks, fragment defaults. */
export interface MovieBoxes {
  readonly timescale: number;
  readonly duration: number;
  readonly tracks: readonly TrackBoxes[];
  /** `mvex/trex` defaults by track id. */
  readonly trackDefaults: ReadonlyMap<number, TrackFragmentDefaults>;
  /** `pssh` boxes of the movie box. */
  readonly pssh: readonly Box[];
}

/** `trex` defaults of a track's fragments. */
export interface TrackFragmentDefaults {
  readonly sampleDescriptionIndex: number;
  readonly sampleDuration: number;
  readonly sampleSize: number;
  readonly sampleFlags: number;
}

function required(file: string, boxes: readonly Box[], type: string, parent: string): Box {
  const box = findBox(boxes, type);
  if (box === undefined) throw mp4Error(file, `has a ${parent} box without ${type}`);
  return box;
}

function readEdits(file: string, bytes: Uint8Array, edts: Box | undefined): Edit[] {
  const elst = edts && findBox(childBoxes(file, bytes, edts), "elst");
  if (elst === undefined) return [];
  const c = new BoxCursor(file, bytes, elst);
  const { version } = c.fullBoxHeader();
  const count = c.u32();
  if (count * (version === 1 ? 20 : 12) > c.remaining) throw c.invalid(`${count} entries`);
  const edits: Edit[] = [];
  for (let i = 0; i < count; i++) {
    const segmentDuration = version === 1 ? c.u64() : c.u32();
    const mediaTime = version === 1 ? c.i64() : c.i32();
    c.skip(4); // media_rate
    edits.push({ segmentDuration, mediaTime });
  }
  return edits;
}

function readTrack(file: string, bytes: Uint8Array, trak: Box): TrackBoxes {
  const boxes = childBoxes(file, bytes, trak);
  const tkhd = new BoxCursor(file, bytes, required(file, boxes, "tkhd", "trak"));
  const { version: tkhdVersion } = tkhd.fullBoxHeader();
  tkhd.skip(tkhdVersion === 1 ? 16 : 8);
  const id = tkhd.u32();
  const mdia = childBoxes(file, bytes, required(file, boxes, "mdia", "trak"));
  const mdhd = new BoxCursor(file, bytes, required(file, mdia, "mdhd", "mdia"));
  const { version } = mdhd.fullBoxHeader();
  mdhd.skip(version === 1 ? 16 : 8);
  const timescale = mdhd.u32();
  const duration = version === 1 ? mdhd.u64() : mdhd.u32();
  if (timescale === 0) throw mdhd.invalid("a timescale of 0");
  const hdlr = new BoxCursor(file, bytes, required(file, mdia, "hdlr", "mdia"));
  hdlr.fullBoxHeader();
  hdlr.skip(4);
  const handler = hdlr.fourcc();
  const minf = childBoxes(file, bytes, required(file, mdia, "minf", "mdia"));
  const stbl = required(file, minf, "stbl", "minf");
  const stsd = required(file, childBoxes(file, bytes, stbl), "stsd", "stbl");
  const stsdCursor = new BoxCursor(file, bytes, stsd);
  stsdCursor.fullBoxHeader();
  const count = stsdCursor.u32();
  const entryBoxes = childBoxes(file, bytes, stsd, 8);
  if (entryBoxes.length !== count) {
    throw stsdCursor.invalid(`${entryBoxes.length} entries where it announces ${count}`);
  }
  return {
    id,
    handler,
    timescale,
    duration,
    edits: readEdits(file, bytes, findBox(boxes, "edts")),
    entries: entryBoxes.map((entry) => readSampleEntry(file, bytes, entry, handler)),
    stbl,
  };
}

/** Reads the movie box: `mvhd`, every `trak`, `mvex/trex` and `pssh`. */
export function readMovieBoxes(file: string, bytes: Uint8Array, moov: Box): MovieBoxes {
  const boxes = childBoxes(file, bytes, moov);
  const mvhd = new BoxCursor(file, bytes, required(file, boxes, "mvhd", "moov"));
  const { version } = mvhd.fullBoxHeader();
  mvhd.skip(version === 1 ? 16 : 8);
  const timescale = mvhd.u32();
  const duration = version === 1 ? mvhd.u64() : mvhd.u32();
  const trackDefaults = new Map<number, TrackFragmentDefaults>();
  const mvex = findBox(boxes, "mvex");
  for (const trex of mvex ? childBoxes(file, bytes, mvex) : []) {
    if (trex.type !== "trex") continue;
    const c = new BoxCursor(file, bytes, trex);
    c.fullBoxHeader();
    trackDefaults.set(c.u32(), {
      sampleDescriptionIndex: c.u32(),
      sampleDuration: c.u32(),
      sampleSize: c.u32(),
      sampleFlags: c.u32(),
    });
  }
  const tracks = boxes.filter((b) => b.type === "trak").map((trak) => readTrack(file, bytes, trak));
  const ids = new Set<number>();
  for (const { id } of tracks) {
    if (ids.has(id)) throw mp4Error(file, `has two tracks with id ${id}`);
    ids.add(id);
  }
  return {
    timescale: timescale || 1,
    duration,
    tracks,
    trackDefaults,
    pssh: boxes.filter((b) => b.type === "pssh"),
  };
}
