import { PipelineMethods } from "@rialto/protocol";
import type { PipelineService } from "../media/pipeline-service.ts";
import type { Client, ClientRouter, ClientsContext } from "./clients-context.ts";
import { requireRunning } from "./pipeline-handlers.ts";

/**
 * The media-pipeline methods after `pipeline/create` (SPEC 6, 9): each one needs the app
 * Running (`INVALID_STATE`) and a pipeline of the calling client (`NOT_FOUND`), then goes to
 * the pipeline's engine, or, for `pipeline/haveData`, to its data side. The engine's own errors
 * (`INVALID_STATE` for a call that does not fit the playback state, `NOT_FOUND` for an unknown
 * source, `INVALID_ARGUMENT`) reach the client as they are. A haveData answering a request that
 * is no longer outstanding (after a seek, a flush, an app-state change) or that asks again
 * after a back-off succeeds with an empty result, as in Rialto.
 */
export function addPipelinePlaybackHandlers(
  router: ClientRouter,
  context: ClientsContext,
): ClientRouter {
  const serviceOf = (method: string, pipelineId: number, client: Client): PipelineService => {
    requireRunning(context, method);
    return context.pipelines.get(client, pipelineId, method);
  };
  const pipelineOf = (method: string, pipelineId: number, client: Client) =>
    serviceOf(method, pipelineId, client).pipeline;
  return router
    .handle(PipelineMethods.load, ({ pipelineId, ...params }, client) => {
      pipelineOf("pipeline/load", pipelineId, client).load(params);
      return {};
    })
    .handle(PipelineMethods.attachSource, ({ pipelineId, source }, client) => {
      const sourceId = pipelineOf("pipeline/attachSource", pipelineId, client).attachSource(source);
      context.pipelines.noteSource(pipelineId, sourceId, source.type);
      return { sourceId };
    })
    .handle(PipelineMethods.removeSource, ({ pipelineId, sourceId }, client) => {
      pipelineOf("pipeline/removeSource", pipelineId, client).removeSource(sourceId);
      context.pipelines.forgetSource(pipelineId, sourceId);
      return {};
    })
    .handle(PipelineMethods.allSourcesAttached, ({ pipelineId }, client) => {
      pipelineOf("pipeline/allSourcesAttached", pipelineId, client).allSourcesAttached();
      return {};
    })
    .handle(PipelineMethods.play, ({ pipelineId }, client) => {
      pipelineOf("pipeline/play", pipelineId, client).play();
      return {};
    })
    .handle(PipelineMethods.pause, ({ pipelineId }, client) => {
      pipelineOf("pipeline/pause", pipelineId, client).pause();
      return {};
    })
    .handle(PipelineMethods.stop, ({ pipelineId }, client) => {
      pipelineOf("pipeline/stop", pipelineId, client).stop();
      return {};
    })
    .handle(PipelineMethods.setPlaybackRate, ({ pipelineId, rate }, client) => {
      pipelineOf("pipeline/setPlaybackRate", pipelineId, client).setPlaybackRate(rate);
      return {};
    })
    .handle(PipelineMethods.setPosition, ({ pipelineId, positionNs }, client) => {
      pipelineOf("pipeline/setPosition", pipelineId, client).setPosition(positionNs);
      return {};
    })
    .handle(PipelineMethods.getPosition, ({ pipelineId }, client) => ({
      positionNs: pipelineOf("pipeline/getPosition", pipelineId, client).getPosition(),
    }))
    .handle(PipelineMethods.flush, ({ pipelineId, sourceId, resetTime }, client) => {
      pipelineOf("pipeline/flush", pipelineId, client).flush(sourceId, resetTime);
      return {};
    })
    .handle(PipelineMethods.setVolume, ({ pipelineId, volume, durationMs, easing }, client) => {
      pipelineOf("pipeline/setVolume", pipelineId, client).setVolume(volume, durationMs, easing);
      return {};
    })
    .handle(PipelineMethods.getVolume, ({ pipelineId }, client) => ({
      volume: pipelineOf("pipeline/getVolume", pipelineId, client).getVolume(),
    }))
    .handle(PipelineMethods.setMute, ({ pipelineId, sourceId, mute }, client) => {
      pipelineOf("pipeline/setMute", pipelineId, client).setMute(sourceId, mute);
      return {};
    })
    .handle(PipelineMethods.haveData, (params, client) => {
      // "stale" and "retrying" are normal outcomes (a seek racing the answer, no samples yet).
      serviceOf("pipeline/haveData", params.pipelineId, client).haveData(params);
      return {};
    })
    .handle(PipelineMethods.getStats, ({ pipelineId, sourceId }, client) =>
      pipelineOf("pipeline/getStats", pipelineId, client).getStats(sourceId),
    );
}
