import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RialtoError } from "@rialto/protocol";
import { splitDashSegments } from "./dash-segments.ts";
import type { DemuxedTrack } from "./demuxed-movie.ts";

/** One packet as ffprobe reads it (`-show_packets -show_data_hash sha256`), in decode order. */
export interface ReferencePacket {
  readonly size: number;
  /** `SHA256:<hex>` as ffprobe prints it. */
  readonly hash: string;
  readonly pts: number | undefined;
  readonly dts: number | undefined;
  readonly keyframe: boolean;
  /** Flagged D: wholly before the start of the presentation (a priming packet). */
  readonly discard: boolean;
}

/** One stream as ffprobe reads it. */
export interface ReferenceStream {
  /** The MP4 track id (ffprobe's stream `id`). */
  readonly trackId: number;
  readonly codecType: string;
  readonly codecName: string;
  /** The stream time base's denominator (ffprobe gives 1/timescale for MP4 tracks). */
  readonly timescale: number;
  readonly packets: readonly ReferencePacket[];
}

/** How one demuxed track compares with ffprobe's stream of the same track id. */
export interface TrackComparison {
  readonly trackId: number;
  readonly samples: number;
  readonly referenceSamples: number;
  /** Samples whose size or SHA-256 differs. */
  readonly bytesDiffer: number;
  /** Samples whose pts or dts differ (ticks of the track's timescale). */
  readonly timesDiffer: number;
  /** Samples whose keyframe or discard flag differs. */
  readonly flagsDiffer: number;
  /** The first difference, in words, or undefined when the track equals the reference. */
  readonly firstDifference: string | undefined;
}

interface FfprobeJson {
  streams?: {
    index: number;
    id?: string;
    codec_type?: string;
    codec_name?: string;
    time_base?: string;
  }[];
  packets?: {
    stream_index: number;
    size: string;
    data_hash?: string;
    pts?: number;
    dts?: number;
    flags?: string;
  }[];
}

/** True when `ffprobe` is on PATH. */
export function ffprobeAvailable(): boolean {
  return Bun.which("ffprobe") !== null;
}

/** Runs ffprobe on one file. */
async function probe(path: string): Promise<ReferenceStream[]> {
  const ffprobe = Bun.which("ffprobe");
  if (ffprobe === null)
    throw new RialtoError("NOT_FOUND", "ffprobe is not on PATH (apt-get install ffmpeg)");
  const child = Bun.spawn(
    [
      ffprobe,
      "-v",
      "error",
      "-show_entries",
      "stream=index,id,codec_type,codec_name,time_base:packet=stream_index,pts,dts,size,flags,data_hash",
      "-show_data_hash",
      "sha256",
      "-of",
      "json",
      path,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [text, errors, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  // ffprobe stops at a demuxer error and still exits 0 (ffmpeg 5.1 does so on CENC fragments
  // whose senc entries it pairs with the wrong samples): its packets would be a partial list.
  const demuxerError = errors.split("\n").find((line) => line.startsWith("[mov,"));
  if (code !== 0 || demuxerError !== undefined) {
    throw new RialtoError(
      "INVALID_ARGUMENT",
      `ffprobe cannot read "${path}": ${(demuxerError ?? errors).trim()}`,
      { details: { ffprobeFailed: true } },
    );
  }
  const json = JSON.parse(text) as FfprobeJson;
  return (json.streams ?? []).map((stream) => ({
    trackId: Number.parseInt(stream.id ?? "0", 16),
    codecType: stream.codec_type ?? "",
    codecName: stream.codec_name ?? "",
    timescale: Number((stream.time_base ?? "1/1").split("/")[1]),
    packets: (json.packets ?? [])
      .filter((p) => p.stream_index === stream.index)
      .map((p) => ({
        size: Number(p.size),
        hash: p.data_hash ?? "",
        pts: p.pts,
        dts: p.dts,
        keyframe: (p.flags ?? "").startsWith("K"),
        discard: (p.flags ?? "").includes("D"),
      })),
  }));
}

/**
 * Runs ffprobe on `path` and returns its streams with every packet: size, SHA-256, pts, dts and
 * keyframe and discard flags. DASH media segments appended to their init segment (several
 * top-level `styp`) are probed one segment at a time, each behind the init segment, and their
 * packets joined: ffmpeg stops at the second segment's `sidx` otherwise.
 *
 * @throws RialtoError `NOT_FOUND` when ffprobe is not on PATH, `INVALID_ARGUMENT` when it
 *   cannot read the file.
 */
export async function readReferencePackets(path: string): Promise<ReferenceStream[]> {
  const segments = splitDashSegments(await Bun.file(path).bytes());
  if (segments === undefined) return probe(path);
  const dir = await mkdtemp(join(tmpdir(), "rialto-ffprobe-"));
  try {
    const parts: ReferenceStream[][] = [];
    for (const [index, segment] of segments.entries()) {
      const part = join(dir, `segment-${index}.mp4`);
      await Bun.write(part, segment);
      parts.push(await probe(part));
    }
    const [first = []] = parts;
    return first.map((stream) => ({
      ...stream,
      packets: parts.flatMap((p) => p.find((s) => s.trackId === stream.trackId)?.packets ?? []),
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `SHA256:<hex>` of a sample, as ffprobe prints it. */
function sampleHash(data: Uint8Array): string {
  return `SHA256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
}

/**
 * Compares a demuxed track with ffprobe's packets of the same track: count, then per sample in
 * decode order its size and SHA-256, pts and dts (in the track's ticks, when ffprobe's time base
 * is the track's timescale), and the keyframe and discard flags.
 */
export function compareTrack(track: DemuxedTrack, stream: ReferenceStream): TrackComparison {
  let bytesDiffer = 0;
  let timesDiffer = 0;
  let flagsDiffer = 0;
  let firstDifference: string | undefined;
  const note = (text: string) => {
    firstDifference ??= text;
  };
  const sameClock = stream.timescale === track.timescale;
  const count = Math.max(track.samples.length, stream.packets.length);
  for (let i = 0; i < count; i++) {
    const sample = track.samples[i];
    const packet = stream.packets[i];
    if (sample === undefined || packet === undefined) continue;
    if (sample.data.byteLength !== packet.size || sampleHash(sample.data) !== packet.hash) {
      bytesDiffer++;
      note(
        `sample ${i}: ${sample.data.byteLength} bytes, ffprobe ${packet.size} bytes or another hash`,
      );
    }
    if (sameClock && (sample.pts !== packet.pts || sample.dts !== packet.dts)) {
      timesDiffer++;
      note(`sample ${i}: pts/dts ${sample.pts}/${sample.dts}, ffprobe ${packet.pts}/${packet.dts}`);
    }
    if (sample.isSync !== packet.keyframe || sample.discard !== packet.discard) {
      flagsDiffer++;
      note(
        `sample ${i}: keyframe/discard ${sample.isSync}/${sample.discard}, ffprobe ${packet.keyframe}/${packet.discard}`,
      );
    }
  }
  if (track.samples.length !== stream.packets.length) {
    firstDifference = `${track.samples.length} samples, ffprobe ${stream.packets.length}`;
  }
  return {
    trackId: track.id,
    samples: track.samples.length,
    referenceSamples: stream.packets.length,
    bytesDiffer,
    timesDiffer,
    flagsDiffer,
    firstDifference,
  };
}

/** True when a comparison found the track equal to the reference in every respect. */
export function isEqualToReference(comparison: TrackComparison): boolean {
  return comparison.firstDifference === undefined;
}
