import { RialtoError } from "@rialto/protocol";
import { type MediaClock, systemClock } from "../media-clock.ts";
import type { MediaEngine } from "../media-engine.ts";
import { type GstLibrary, loadGstreamer } from "./gst-ffi.ts";
import {
  DEFAULT_GSTREAMER_TUNING,
  GstreamerPipeline,
  type GstreamerTuning,
} from "./gstreamer-pipeline.ts";
import { decodableMimeTypes, isDecodable } from "./source-caps.ts";

/** Options of {@link createGstreamerEngine}. */
export interface GstreamerEngineOptions {
  /** Timers of the poll loop and position events; default the system clock. */
  readonly clock?: MediaClock;
  /** Poll and position intervals; defaults in `DEFAULT_GSTREAMER_TUNING`. */
  readonly tuning?: Partial<GstreamerTuning>;
  /**
   * Write a PNG contact sheet of each pipeline's decoded video here (the first pipeline; later
   * ones add `.<pipelineId>.png`); default none. The session server takes it from `SNAPSHOT_ENV`.
   */
  readonly snapshotPath?: string;
}

/** Elements every pipeline uses, with the Debian package that brings them. */
const REQUIRED_ELEMENTS: readonly [string, string][] = [
  ["appsrc", "gstreamer1.0-plugins-base"],
  ["appsink", "gstreamer1.0-plugins-base"],
  ["videoconvert", "gstreamer1.0-plugins-base"],
  ["audioconvert", "gstreamer1.0-plugins-base"],
  ["volume", "gstreamer1.0-plugins-base"],
  ["identity", "libgstreamer1.0-0"],
];

/** The SPEC 9.2 properties the GStreamer engine acts on (the others are only recorded). */
const GSTREAMER_PROPERTIES: Readonly<Record<"audio" | "video" | "subtitle", readonly string[]>> = {
  audio: ["volume", "mute", "sync"],
  video: ["sync"],
  subtitle: [],
};

/**
 * Sinks `autovideosink` must never try. Probing dfbvideosink (DirectFB, gstreamer1.0-plugins-bad)
 * on a machine without a framebuffer console crashes the process (seen on Debian 12, headless);
 * probing kmssink where there is no usable DRM device blocks the session server's thread for
 * 1.6-2.5 s (autodetect tries each candidate synchronously in the state change). A device that
 * renders through KMS names it in `playback.videoSink` instead.
 */
const UNSAFE_AUTOPLUG = ["dfbvideosink", "kmssink"];

/**
 * Loads GStreamer and checks the elements every pipeline needs; throws `NOT_FOUND` naming the
 * missing library or element and its Debian package.
 */
function loadChecked(): GstLibrary {
  const gst = loadGstreamer();
  for (const factory of UNSAFE_AUTOPLUG) gst.excludeFromAutoplug(factory);
  for (const [element, debian] of REQUIRED_ELEMENTS) {
    if (!gst.hasElement(element)) {
      throw new RialtoError(
        "NOT_FOUND",
        `GStreamer engine: element ${element} is missing; install it with "apt-get install ${debian}"`,
      );
    }
  }
  return gst;
}

/**
 * The real media engine (SPEC 9.1): pipelines decoded and rendered by GStreamer through
 * `bun:ffi`. GStreamer is loaded on first use (the first pipeline or capability query), not at
 * start-up, so an idle session server pays nothing for it; when it is missing, that first use
 * fails with `NOT_FOUND` naming what to install.
 */
export function createGstreamerEngine(options: GstreamerEngineOptions = {}): MediaEngine {
  const clock = options.clock ?? systemClock;
  const tuning = { ...DEFAULT_GSTREAMER_TUNING, ...options.tuning };
  let library: GstLibrary | undefined;
  const gst = () => {
    library ??= loadChecked();
    return library;
  };
  const hasElement = (factory: string) => gst().hasElement(factory);
  return {
    name: "gstreamer",
    createPipeline: (pipelineOptions) => {
      const path = options.snapshotPath;
      const snapshotPath =
        path === undefined || pipelineOptions.pipelineId === 1
          ? path
          : `${path}.${pipelineOptions.pipelineId}.png`;
      return new GstreamerPipeline(pipelineOptions, { gst: gst(), clock, tuning, snapshotPath });
    },
    getSupportedMimeTypes: (sourceType) =>
      sourceType === "subtitle" ? [] : decodableMimeTypes(hasElement, sourceType),
    isMimeTypeSupported: (mimeType) => isDecodable(mimeType, hasElement),
    getSupportedProperties: (sourceType, names) =>
      names.filter((name) => GSTREAMER_PROPERTIES[sourceType].includes(name)),
  };
}

/** Whether the GStreamer engine can play here: its version, or why not (the error's message). */
export type GstreamerStatus =
  | { readonly available: true; readonly version: string }
  | { readonly available: false; readonly reason: string };

/**
 * Checks that GStreamer, the elements every pipeline needs and the decoders of `mimeTypes`
 * (default H.264 and AAC) are installed, in this process. For tests and tools that must know
 * before they start a session server with the engine.
 */
export function gstreamerStatus(
  mimeTypes: readonly string[] = ["video/h264", "audio/mp4"],
): GstreamerStatus {
  try {
    const gst = loadChecked();
    const missing = mimeTypes.filter((m) => !isDecodable(m, (f) => gst.hasElement(f)));
    if (missing.length > 0) {
      return { available: false, reason: `no GStreamer decoder for ${missing.join(", ")}` };
    }
    return { available: true, version: gst.version };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
