import { PipelineMethods } from "@rialto/protocol";
import { PipelinePlayback } from "./media-pipeline-playback.ts";
import { type MediaSourceConfig, toWireSource } from "./media-pipeline-sources.ts";

/** A segment's extra terms for `setSourcePosition`. */
export interface SourcePositionOptions {
  /** Whether the running time restarts at the position; default true. */
  readonly resetTime?: boolean;
  /** The segment's applied rate; default 1. */
  readonly appliedRate?: number;
  /** Where the segment stops, ns; default at the end of the stream. */
  readonly stopPositionNs?: number;
}

/**
 * What a browser's media stack calls besides playback (SPEC 9.2, Rialto's `IMediaPipeline`):
 * per-source positions (an MSE seek is `flush(sourceId, true)` plus `setSourcePosition` per
 * source), source switches and the sink and sync settings. Settings are kept by the session
 * server from the moment they are made; the media README says which each engine acts on.
 * Arguments are checked against the wire schema before anything is sent (`INVALID_ARGUMENT`).
 */
export class PipelineControls extends PipelinePlayback {
  /** The new segment of a source after its flush: frames before `positionNs` are not shown. */
  async setSourcePosition(
    sourceId: number,
    positionNs: number,
    options: SourcePositionOptions = {},
  ): Promise<void> {
    await this.call(PipelineMethods.setSourcePosition, {
      pipelineId: this.id,
      sourceId,
      positionNs,
      ...options,
    });
  }

  /**
   * Replaces the source of `source.type` (an audio codec or language switch), keeping its id.
   * The source's outstanding request is void (answering it is a no-op); with another codec, the
   * engine drops what the old decoder held and asks for data from the playhead, after this call
   * resolves. Switch the app's own feeding to the new codec before calling.
   */
  async switchSource(source: MediaSourceConfig): Promise<void> {
    await this.call(PipelineMethods.switchSource, {
      pipelineId: this.id,
      source: toWireSource(source),
    });
    this.sourceSwitched(source);
  }

  /** Whether one source, or the whole pipeline, is muted. */
  async getMute(sourceId?: number): Promise<boolean> {
    const ref =
      sourceId === undefined ? { pipelineId: this.id } : { pipelineId: this.id, sourceId };
    return (await this.call(PipelineMethods.getMute, ref)).mute;
  }

  /** Where the video is drawn, in screen pixels. */
  async setVideoWindow(x: number, y: number, width: number, height: number): Promise<void> {
    await this.call(PipelineMethods.setVideoWindow, { pipelineId: this.id, x, y, width, height });
  }

  /** While paused, renders the next video frame. */
  async renderFrame(): Promise<void> {
    await this.call(PipelineMethods.renderFrame, { pipelineId: this.id });
  }

  /** Whether the sinks sync to the clock (default true). */
  async setSync(enabled: boolean): Promise<void> {
    await this.call(PipelineMethods.setSync, { pipelineId: this.id, enabled });
  }

  /** See {@link setSync}. */
  async getSync(): Promise<boolean> {
    return (await this.call(PipelineMethods.getSync, { pipelineId: this.id })).enabled;
  }

  /** Rialto's `setSyncOff`. */
  async setSyncOff(enabled: boolean): Promise<void> {
    await this.call(PipelineMethods.setSyncOff, { pipelineId: this.id, enabled });
  }

  /** Rialto's `setLowLatency`. */
  async setLowLatency(enabled: boolean): Promise<void> {
    await this.call(PipelineMethods.setLowLatency, { pipelineId: this.id, enabled });
  }

  /** Whether one source's frames are shown as soon as decoded (Rialto's `setImmediateOutput`). */
  async setImmediateOutput(sourceId: number, enabled: boolean): Promise<void> {
    await this.call(PipelineMethods.setImmediateOutput, { pipelineId: this.id, sourceId, enabled });
  }

  /** See {@link setImmediateOutput}. */
  async getImmediateOutput(sourceId: number): Promise<boolean> {
    const ref = { pipelineId: this.id, sourceId };
    return (await this.call(PipelineMethods.getImmediateOutput, ref)).enabled;
  }

  /** Rialto's `setStreamSyncMode` of one source. */
  async setStreamSyncMode(sourceId: number, streamSyncMode: number): Promise<void> {
    await this.call(PipelineMethods.setStreamSyncMode, {
      pipelineId: this.id,
      sourceId,
      streamSyncMode,
    });
  }

  /** Which text track the subtitle source renders. */
  async setTextTrackIdentifier(textTrackIdentifier: string): Promise<void> {
    await this.call(PipelineMethods.setTextTrackIdentifier, {
      pipelineId: this.id,
      textTrackIdentifier,
    });
  }

  /** See {@link setTextTrackIdentifier}. */
  async getTextTrackIdentifier(): Promise<string> {
    const ref = { pipelineId: this.id };
    return (await this.call(PipelineMethods.getTextTrackIdentifier, ref)).textTrackIdentifier;
  }

  /** Shifts a subtitle source's timing, ns. */
  async setSubtitleOffset(sourceId: number, positionNs: number): Promise<void> {
    await this.call(PipelineMethods.setSubtitleOffset, {
      pipelineId: this.id,
      sourceId,
      positionNs,
    });
  }

  /** Tells of an audio gap (Rialto's `processAudioGap`), ns. */
  async processAudioGap(
    positionNs: number,
    durationNs: number,
    discontinuityGapNs: number,
    audioAac: boolean,
  ): Promise<void> {
    await this.call(PipelineMethods.processAudioGap, {
      pipelineId: this.id,
      positionNs,
      durationNs,
      discontinuityGapNs,
      audioAac,
    });
  }

  /** How much media the pipeline buffers, ms (0: the platform's default). */
  async setBufferingLimit(limitBufferingMs: number): Promise<void> {
    await this.call(PipelineMethods.setBufferingLimit, { pipelineId: this.id, limitBufferingMs });
  }

  /** See {@link setBufferingLimit}. */
  async getBufferingLimit(): Promise<number> {
    const ref = { pipelineId: this.id };
    return (await this.call(PipelineMethods.getBufferingLimit, ref)).limitBufferingMs;
  }

  /** Whether the pipeline buffers (reports buffering states). */
  async setUseBuffering(enabled: boolean): Promise<void> {
    await this.call(PipelineMethods.setUseBuffering, { pipelineId: this.id, enabled });
  }

  /** See {@link setUseBuffering}. */
  async getUseBuffering(): Promise<boolean> {
    return (await this.call(PipelineMethods.getUseBuffering, { pipelineId: this.id })).enabled;
  }
}
