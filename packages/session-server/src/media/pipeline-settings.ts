import type { SourceId } from "@rialto/protocol";

/** A video window in screen pixels. */
export interface VideoWindow {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The pipeline-wide settings of SPEC 9.2, with Rialto's defaults. */
export interface PipelineSettingValues {
  videoWindow: VideoWindow | undefined;
  /** Sinks sync to the clock (Rialto's `setSync`); default true. */
  sync: boolean;
  /** Rialto's `setSyncOff` (audio sink sync off for low-latency apps); default false. */
  syncOff: boolean;
  lowLatency: boolean;
  textTrackIdentifier: string;
  /** ms; 0: the platform's default. */
  bufferingLimitMs: number;
  useBuffering: boolean;
}

/** The per-source settings of SPEC 9.2. */
export interface SourceSettingValues {
  immediateOutput: boolean;
  streamSyncMode: number;
  subtitleOffsetNs: number;
}

/** The last audio gap the app told of (`processAudioGap`). */
export interface AudioGap {
  readonly positionNs: number;
  readonly durationNs: number;
  readonly discontinuityGapNs: number;
  readonly audioAac: boolean;
}

const PIPELINE_DEFAULTS: PipelineSettingValues = {
  videoWindow: undefined,
  sync: true,
  syncOff: false,
  lowLatency: false,
  textTrackIdentifier: "",
  bufferingLimitMs: 0,
  useBuffering: false,
};

const SOURCE_DEFAULTS: SourceSettingValues = {
  immediateOutput: false,
  streamSyncMode: 0,
  subtitleOffsetNs: 0,
};

/** Told when a pipeline-wide setting changed, so an engine can apply it. */
export type SettingListener = (name: keyof PipelineSettingValues) => void;

/**
 * The settings a browser's media stack makes on a pipeline (SPEC 9.2): kept from the moment
 * they are made, whether the sources or the engine's own pipeline exist yet, and read back by
 * the getters. An engine applies the ones it can act on (it is told of every change, and reads
 * the values again when it builds its pipeline); README.md says which each engine applies.
 */
export class PipelineSettings {
  readonly #values: PipelineSettingValues = { ...PIPELINE_DEFAULTS };
  readonly #sources = new Map<SourceId, SourceSettingValues>();
  readonly #onChange: SettingListener | undefined;
  /** The last audio gap the app told of. */
  audioGap: AudioGap | undefined;

  constructor(onChange?: SettingListener) {
    this.#onChange = onChange;
  }

  /** A pipeline-wide setting. */
  get<K extends keyof PipelineSettingValues>(name: K): PipelineSettingValues[K] {
    return this.#values[name];
  }

  /** Sets a pipeline-wide setting; the engine is told when the value changed. */
  set<K extends keyof PipelineSettingValues>(name: K, value: PipelineSettingValues[K]): void {
    if (this.#values[name] === value) return;
    this.#values[name] = value;
    this.#onChange?.(name);
  }

  /** A source's setting (the default until one was made). */
  sourceValue<K extends keyof SourceSettingValues>(
    sourceId: SourceId,
    name: K,
  ): SourceSettingValues[K] {
    return (this.#sources.get(sourceId) ?? SOURCE_DEFAULTS)[name];
  }

  /** Sets a source's setting. */
  setSourceValue<K extends keyof SourceSettingValues>(
    sourceId: SourceId,
    name: K,
    value: SourceSettingValues[K],
  ): void {
    const values = this.#sources.get(sourceId) ?? { ...SOURCE_DEFAULTS };
    values[name] = value;
    this.#sources.set(sourceId, values);
  }

  /** Forgets a removed source's settings. */
  forgetSource(sourceId: SourceId): void {
    this.#sources.delete(sourceId);
  }
}

/**
 * The GStreamer-style property names `getSupportedProperties` knows, per source type, and what
 * each stands for here.
 */
export const KNOWN_PROPERTIES: Readonly<Record<"audio" | "video" | "subtitle", readonly string[]>> =
  Object.freeze({
    audio: [
      "volume",
      "mute",
      "sync",
      "immediate-output",
      "low-latency",
      "stream-sync-mode",
      "limit-buffering-ms",
      "use-buffering",
      "sync-off",
    ],
    video: ["immediate-output", "sync", "rectangle", "stream-sync-mode"],
    subtitle: ["text-track-identifier", "mute", "offset"],
  });
