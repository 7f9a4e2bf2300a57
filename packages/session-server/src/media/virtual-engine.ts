import type { MediaKind } from "@rialto/shm";
import { type MediaClock, systemClock } from "./media-clock.ts";
import type { MediaEngine } from "./media-engine.ts";
import { KNOWN_PROPERTIES } from "./pipeline-settings.ts";
import {
  DEFAULT_VIRTUAL_TUNING,
  VirtualPipeline,
  type VirtualPipelineTuning,
} from "./virtual-pipeline.ts";

/** Options of {@link createVirtualEngine}. */
export interface VirtualEngineOptions {
  /** Time source and timers; default the system clock (tests pass a manual clock). */
  readonly clock?: MediaClock;
  /** Renderer knobs; defaults in `DEFAULT_VIRTUAL_TUNING`. */
  readonly tuning?: Partial<VirtualPipelineTuning>;
}

/**
 * What the virtual engine says it plays: the elementary-stream MIME types Rialto's apps use. It
 * decodes nothing, so it would schedule any type; the list keeps capability answers meaningful.
 */
export const VIRTUAL_MIME_TYPES: Readonly<Record<MediaKind, readonly string[]>> = Object.freeze({
  video: ["video/h264", "video/h265", "video/x-vp9", "video/x-av1"],
  audio: [
    "audio/mp4",
    "audio/aac",
    "audio/x-opus",
    "audio/x-ac3",
    "audio/x-eac3",
    "audio/b-wav",
    "audio/x-raw",
  ],
  subtitle: ["text/vtt", "text/ttml", "text/cc", "application/ttml+xml"],
});

/**
 * The default media engine: virtual pipelines that schedule and count frames without any media
 * hardware (SPEC 9), so the whole system runs on a plain Linux machine.
 */
export function createVirtualEngine(options: VirtualEngineOptions = {}): MediaEngine {
  const clock = options.clock ?? systemClock;
  const tuning = { ...DEFAULT_VIRTUAL_TUNING, ...options.tuning };
  return {
    name: "virtual",
    createPipeline: (pipelineOptions) => new VirtualPipeline(pipelineOptions, clock, tuning),
    getSupportedMimeTypes: (sourceType) =>
      sourceType === undefined
        ? Object.values(VIRTUAL_MIME_TYPES).flat()
        : [...VIRTUAL_MIME_TYPES[sourceType]],
    getSupportedProperties: (sourceType, names) =>
      names.filter((name) => KNOWN_PROPERTIES[sourceType].includes(name)),
    isMimeTypeSupported: (mimeType) => {
      const base = (mimeType.split(";")[0] ?? "").trim().toLowerCase();
      return Object.values(VIRTUAL_MIME_TYPES).some((types) => types.includes(base));
    },
  };
}
