import type { PlaybackOptions, SourceId } from "@rialto/protocol";
import type { SourcePlan } from "./source-caps.ts";

/** One source of a pipeline as the launch description needs it. */
export interface LaunchSource {
  readonly id: SourceId;
  readonly kind: "audio" | "video";
  readonly plan: SourcePlan;
}

/** Default device sinks (SPEC 9.1). */
export const DEFAULT_VIDEO_SINK = "autovideosink";
export const DEFAULT_AUDIO_SINK = "autoaudiosink";

// audioconvert dithers by default, which makes decoded audio differ run to run.
const EXACT_AUDIO_CONVERT = "audioconvert dithering=none noise-shaping=none";

// Unbounded: a full appsink would block its streaming thread, and a JS thread waiting in a
// GStreamer call for that thread could then never drain it. The appsrc levels bound the queue.
function appSink(id: SourceId, sync: boolean): string {
  return `appsink name=sink${id} sync=${sync} emit-signals=false max-buffers=0 enable-last-sample=false`;
}

function videoTail(id: SourceId, playback: PlaybackOptions, sync: boolean): string {
  switch (playback.sink) {
    case "null":
      return appSink(id, sync);
    case "checksum":
      return `videoconvert ! video/x-raw,format=I420 ! ${appSink(id, sync)}`;
    case "device":
      return `identity name=count${id} signal-handoffs=true silent=true ! videoconvert ! ${playback.videoSink ?? `${DEFAULT_VIDEO_SINK} sync=${sync}`}`;
  }
}

function audioTail(id: SourceId, playback: PlaybackOptions, sync: boolean): string {
  if (playback.sink === "device") {
    return `audioconvert ! volume name=vol${id} ! identity name=count${id} signal-handoffs=true silent=true ! audioconvert ! audioresample ! ${playback.audioSink ?? `${DEFAULT_AUDIO_SINK} sync=${sync}`}`;
  }
  return `${EXACT_AUDIO_CONVERT} ! audio/x-raw,format=F32LE,layout=interleaved ! volume name=vol${id} ! ${appSink(id, sync)}`;
}

/**
 * The launch description of one source's branch: `appsrc name=src<id>` (time format, seekable,
 * the planned caps) → decoder `dec<id>` (`max-errors=0`: corrupt input is an ERROR, never a
 * silently dropped frame) → the tail `playback.sink` names. Decoded output is I420 video and
 * F32LE interleaved audio for the `checksum` sink; audio always passes a `volume` element
 * `vol<id>`. `realtime` sinks sync to the clock, `freerun` sinks do not.
 */
export function describeBranch(source: LaunchSource, playback: PlaybackOptions): string {
  const { id, kind, plan } = source;
  const sync = playback.clock === "realtime";
  const head = `appsrc name=src${id} format=time stream-type=seekable emit-signals=false caps="${plan.caps}" ! ${plan.decoder} name=dec${id} max-errors=0`;
  const tail = kind === "video" ? videoTail(id, playback, sync) : audioTail(id, playback, sync);
  return `${head} ! ${tail}`;
}

/** The name of the bin that holds a source's branch. */
export function branchName(id: SourceId): string {
  return `branch${id}`;
}

/** The `gst_parse_launch` description of a whole pipeline: every source's branch, unlinked. */
export function describeLaunch(
  sources: readonly LaunchSource[],
  playback: PlaybackOptions,
): string {
  return sources.map((source) => describeBranch(source, playback)).join("  ");
}

/** The source id in an element name of {@link describeBranch} (`src3`, `dec3`, `sink3`, ...). */
export function elementSourceId(name: string): SourceId | undefined {
  const match = /^(?:src|dec|sink|vol|count)(\d+)$/.exec(name);
  return match === null ? undefined : Number(match[1]);
}
