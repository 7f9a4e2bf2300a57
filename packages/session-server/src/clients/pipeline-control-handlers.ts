import { PipelineMethods } from "@rialto/protocol";
import type { Pipeline } from "../media/media-engine.ts";
import type { Client, ClientRouter, ClientsContext } from "./clients-context.ts";
import { callOrderOf } from "./pipeline-call-order.ts";
import { requireRunning } from "./pipeline-handlers.ts";
import { checkSource } from "./source-checks.ts";

/**
 * What a browser's media stack calls besides playback (SPEC 9.2): per-source positions, source
 * switches, and the settings of `PipelineSettings` (kept whether or not the engine acts on
 * them; see the media README). Like the playback methods they need the app Running and a
 * pipeline of the caller; `getSupportedProperties` is a capability, answered in any state.
 */
export function addPipelineControlHandlers(
  router: ClientRouter,
  context: ClientsContext,
): ClientRouter {
  const pipelineOf = (method: string, pipelineId: number, client: Client): Pipeline => {
    requireRunning(context, method);
    return context.pipelines.get(client, pipelineId, method).pipeline;
  };
  /** The pipeline, once `allSourcesAttached` is known to have come (INVALID_STATE otherwise). */
  const playingPipelineOf = (method: string, pipelineId: number, client: Client): Pipeline => {
    requireRunning(context, method);
    const service = context.pipelines.get(client, pipelineId, method);
    callOrderOf(service, pipelineId).checkPlayback(method);
    return service.pipeline;
  };
  /** The pipeline, once `sourceId` is known to be one of its sources (NOT_FOUND otherwise). */
  const withSource = (method: string, pipelineId: number, sourceId: number, client: Client) => {
    const pipeline = pipelineOf(method, pipelineId, client);
    pipeline.getStats(sourceId);
    return pipeline;
  };
  const M = PipelineMethods;
  return router
    .handle(M.setSourcePosition, (params, client) => {
      pipelineOf(M.setSourcePosition.name, params.pipelineId, client).setSourcePosition(
        params.sourceId,
        params.positionNs,
        params.resetTime ?? true,
        params.appliedRate ?? 1,
        params.stopPositionNs,
      );
      return {};
    })
    .handle(M.switchSource, ({ pipelineId, source }, client) => {
      checkSource(context.pipelines.engine, source, M.switchSource.name);
      pipelineOf(M.switchSource.name, pipelineId, client).switchSource(source);
      return {};
    })
    .handle(M.getMute, ({ pipelineId, sourceId }, client) => ({
      mute: pipelineOf(M.getMute.name, pipelineId, client).getMute(sourceId),
    }))
    .handle(M.setVideoWindow, ({ pipelineId, ...window }, client) => {
      pipelineOf(M.setVideoWindow.name, pipelineId, client).settings.set("videoWindow", window);
      return {};
    })
    .handle(M.renderFrame, ({ pipelineId }, client) => {
      playingPipelineOf(M.renderFrame.name, pipelineId, client).renderFrame();
      return {};
    })
    .handle(M.setSync, ({ pipelineId, enabled }, client) => {
      pipelineOf(M.setSync.name, pipelineId, client).settings.set("sync", enabled);
      return {};
    })
    .handle(M.getSync, ({ pipelineId }, client) => ({
      enabled: pipelineOf(M.getSync.name, pipelineId, client).settings.get("sync"),
    }))
    .handle(M.setSyncOff, ({ pipelineId, enabled }, client) => {
      pipelineOf(M.setSyncOff.name, pipelineId, client).settings.set("syncOff", enabled);
      return {};
    })
    .handle(M.setLowLatency, ({ pipelineId, enabled }, client) => {
      pipelineOf(M.setLowLatency.name, pipelineId, client).settings.set("lowLatency", enabled);
      return {};
    })
    .handle(M.setImmediateOutput, ({ pipelineId, sourceId, enabled }, client) => {
      const pipeline = withSource(M.setImmediateOutput.name, pipelineId, sourceId, client);
      pipeline.settings.setSourceValue(sourceId, "immediateOutput", enabled);
      return {};
    })
    .handle(M.getImmediateOutput, ({ pipelineId, sourceId }, client) => {
      const pipeline = withSource(M.getImmediateOutput.name, pipelineId, sourceId, client);
      return { enabled: pipeline.settings.sourceValue(sourceId, "immediateOutput") };
    })
    .handle(M.setStreamSyncMode, ({ pipelineId, sourceId, streamSyncMode }, client) => {
      const pipeline = withSource(M.setStreamSyncMode.name, pipelineId, sourceId, client);
      pipeline.settings.setSourceValue(sourceId, "streamSyncMode", streamSyncMode);
      return {};
    })
    .handle(M.setTextTrackIdentifier, ({ pipelineId, textTrackIdentifier }, client) => {
      pipelineOf(M.setTextTrackIdentifier.name, pipelineId, client).settings.set(
        "textTrackIdentifier",
        textTrackIdentifier,
      );
      return {};
    })
    .handle(M.getTextTrackIdentifier, ({ pipelineId }, client) => ({
      textTrackIdentifier: pipelineOf(
        M.getTextTrackIdentifier.name,
        pipelineId,
        client,
      ).settings.get("textTrackIdentifier"),
    }))
    .handle(M.setSubtitleOffset, ({ pipelineId, sourceId, positionNs }, client) => {
      const pipeline = withSource(M.setSubtitleOffset.name, pipelineId, sourceId, client);
      pipeline.settings.setSourceValue(sourceId, "subtitleOffsetNs", positionNs);
      return {};
    })
    .handle(M.processAudioGap, ({ pipelineId, ...gap }, client) => {
      pipelineOf(M.processAudioGap.name, pipelineId, client).settings.audioGap = gap;
      return {};
    })
    .handle(M.setBufferingLimit, ({ pipelineId, limitBufferingMs }, client) => {
      pipelineOf(M.setBufferingLimit.name, pipelineId, client).settings.set(
        "bufferingLimitMs",
        limitBufferingMs,
      );
      return {};
    })
    .handle(M.getBufferingLimit, ({ pipelineId }, client) => ({
      limitBufferingMs: pipelineOf(M.getBufferingLimit.name, pipelineId, client).settings.get(
        "bufferingLimitMs",
      ),
    }))
    .handle(M.setUseBuffering, ({ pipelineId, enabled }, client) => {
      pipelineOf(M.setUseBuffering.name, pipelineId, client).settings.set("useBuffering", enabled);
      return {};
    })
    .handle(M.getUseBuffering, ({ pipelineId }, client) => ({
      enabled: pipelineOf(M.getUseBuffering.name, pipelineId, client).settings.get("useBuffering"),
    }))
    .handle(M.getSupportedProperties, ({ sourceType, propertyNames }) => ({
      supportedProperties: context.pipelines.engine.getSupportedProperties(
        sourceType,
        propertyNames,
      ),
    }));
}
