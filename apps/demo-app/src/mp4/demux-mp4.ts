import { RialtoError } from "@rialto/protocol";
import {
  type Box,
  createFile,
  type ES_Descriptor,
  MP4BoxBuffer,
  type Sample,
  SampleEntry,
} from "mp4box";
import type { DemuxedMovie, DemuxedSample, DemuxedTrack } from "./demuxed-movie.ts";

const NS_PER_SECOND = 1_000_000_000n;
/** MPEG-4 descriptor tags (ISO/IEC 14496-1): DecoderConfigDescriptor, DecoderSpecificInfo. */
const DECODER_CONFIG_TAG = 4;
const DECODER_SPECIFIC_INFO_TAG = 5;

/** Where a failure happened, for messages that name the file. */
interface Source {
  readonly name: string;
  readonly bytes: Uint8Array;
}

function invalid(source: Source, problem: string, cause?: unknown): RialtoError {
  return new RialtoError("INVALID_ARGUMENT", `demuxMp4: "${source.name}" ${problem}`, { cause });
}

/** Converts `ticks` of a `timescale`-Hz clock to nanoseconds, rounded to the nearest. */
function ticksToNs(ticks: number, timescale: number): number {
  if (ticks < 0) return -ticksToNs(-ticks, timescale);
  const scale = BigInt(timescale);
  return Number((BigInt(ticks) * NS_PER_SECOND + scale / 2n) / scale);
}

/** The payload of a parsed box (its bytes after the header), sliced from the input. */
function boxPayload(source: Source, box: Box, what: string): Uint8Array {
  const start = (box.start ?? -1) + (box.hdr_size ?? 0);
  const end = (box.start ?? -1) + box.size;
  if (box.start === undefined || start > end || end > source.bytes.byteLength) {
    throw invalid(source, `has a ${what} box outside the file (${box.start}+${box.size})`);
  }
  return source.bytes.subarray(start, end);
}

/** Codec configuration bytes of a sample entry, or undefined when the codec is not supported. */
function codecDataOf(source: Source, entry: SampleEntry): Uint8Array | undefined {
  const visual = entry as { avcC?: Box; hvcC?: Box };
  if (entry.type === "avc1" || entry.type === "avc3") {
    return visual.avcC && boxPayload(source, visual.avcC, "avcC");
  }
  if (entry.type === "hvc1" || entry.type === "hev1") {
    return visual.hvcC && boxPayload(source, visual.hvcC, "hvcC");
  }
  if (entry.type === "mp4a") {
    const esd = (entry as { esds?: { esd?: ES_Descriptor } }).esds?.esd;
    const config = esd?.findDescriptor(DECODER_CONFIG_TAG);
    const info = config?.findDescriptor(DECODER_SPECIFIC_INFO_TAG) as { data?: Uint8Array };
    return info?.data === undefined ? undefined : new Uint8Array(info.data);
  }
  return undefined;
}

function sampleEntryOf(source: Source, trackId: number, sample: Sample): SampleEntry {
  const entry = sample.description;
  if (!(entry instanceof SampleEntry)) {
    throw invalid(source, `track ${trackId} sample ${sample.number} has no sample description`);
  }
  return entry;
}

function mimeTypeOf(codec: string): string | undefined {
  if (codec.startsWith("avc1.") || codec.startsWith("avc3.")) return "video/h264";
  if (codec.startsWith("hvc1.") || codec.startsWith("hev1.")) return "video/h265";
  if (codec.startsWith("mp4a.40.")) return "audio/mp4";
  return undefined;
}

function samplesOf(source: Source, trackId: number, samples: readonly Sample[]): DemuxedSample[] {
  const { bytes } = source;
  let description: SampleEntry | undefined;
  return samples.map((sample) => {
    const { offset, size, timescale } = sample;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > bytes.byteLength) {
      throw invalid(
        source,
        `track ${trackId} sample ${sample.number}: bytes ${offset}..${offset + size} are outside the ${bytes.byteLength}-byte file`,
      );
    }
    const demuxed: DemuxedSample = {
      data: bytes.subarray(offset, offset + size),
      timestampNs: ticksToNs(sample.cts, timescale),
      durationNs: ticksToNs(sample.duration, timescale),
      isSync: sample.is_sync,
    };
    const entry = sampleEntryOf(source, trackId, sample);
    if (description === undefined || entry === description) {
      description = entry;
      return demuxed;
    }
    description = entry;
    const codecData = codecDataOf(source, entry);
    if (codecData === undefined) {
      throw invalid(source, `track ${trackId} sample ${sample.number}: no codec data`);
    }
    return { ...demuxed, codecData };
  });
}

/**
 * Splits an MP4 (ISO BMFF) file into its H.264 / H.265 / AAC tracks with mp4box. Sample bytes
 * are views of `bytes` (nothing is copied; do not modify `bytes` while they are in use).
 * Timestamps are the tracks' media times: edit lists are not applied, so an AAC priming frame
 * stays at 0. Text and metadata tracks are left out.
 *
 * @param bytes - the whole file
 * @param name - the file name, used in error messages
 * @throws RialtoError `INVALID_ARGUMENT` naming the file when it is not an MP4 mp4box can
 *   parse, has no audio or video track, uses another codec, or points outside itself.
 */
export async function demuxMp4(bytes: Uint8Array, name = "(bytes)"): Promise<DemuxedMovie> {
  const source: Source = { name, bytes };
  const file = createFile();
  let parseError: string | undefined;
  file.onError = (module, message) => {
    parseError ??= `${module}: ${message}`;
  };
  try {
    const buffer = new MP4BoxBuffer(bytes.byteLength);
    new Uint8Array(buffer).set(bytes);
    buffer.fileStart = 0;
    file.appendBuffer(buffer, true);
    file.flush();
  } catch (error) {
    throw invalid(source, `is not a readable MP4: ${String(error)}`, error);
  }
  if (parseError !== undefined) throw invalid(source, `is not a readable MP4: ${parseError}`);
  if (file.moov === undefined) throw invalid(source, "has no movie box (moov): not an MP4");

  const info = file.getInfo();
  const tracks: DemuxedTrack[] = [];
  for (const track of info.tracks) {
    if (track.type !== "video" && track.type !== "audio") continue;
    const samples = file.getTrackSamplesInfo(track.id);
    const first = samples[0];
    if (first === undefined) throw invalid(source, `track ${track.id} has no samples`);
    const entry = sampleEntryOf(source, track.id, first);
    const mimeType = mimeTypeOf(track.codec);
    const codecData = codecDataOf(source, entry);
    if (mimeType === undefined || codecData === undefined) {
      throw invalid(
        source,
        `track ${track.id} has codec "${track.codec}": only H.264, H.265 and AAC are supported`,
      );
    }
    const common = {
      id: track.id,
      codec: track.codec,
      mimeType,
      codecData,
      durationNs: ticksToNs(track.duration, track.timescale),
      samples: samplesOf(source, track.id, samples),
    };
    tracks.push(
      track.type === "video"
        ? { type: "video", ...common, width: entry.getWidth(), height: entry.getHeight() }
        : {
            type: "audio",
            ...common,
            sampleRate: entry.getSampleRate(),
            channels: entry.getChannelCount(),
          },
    );
  }
  if (tracks.length === 0) throw invalid(source, "has no audio or video track");
  const movieNs = info.timescale > 0 ? ticksToNs(info.duration, info.timescale) : 0;
  const durationNs = movieNs > 0 ? movieNs : Math.max(...tracks.map((t) => t.durationNs));
  return { durationNs, tracks };
}
