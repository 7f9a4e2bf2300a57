import { PipelineMethods } from "@rialto/protocol";
import type { PipelineService } from "../media/pipeline-service.ts";
import type { Client, ClientRouter, ClientsContext } from "./clients-context.ts";
import { callOrderOf } from "./pipeline-call-order.ts";
import { requireRunning } from "./pipeline-handlers.ts";
import { checkSource } from "./source-checks.ts";

/**
 * The media-pipeline methods after `pipeline/create` (SPEC 6, 9): each one needs the app
 * Running (`INVALID_STATE`) and a pipeline of the calling client (`NOT_FOUND`), then goes to
 * the pipeline's engine, or, for `pipeline/haveData`, to its data side. The engine's own errors
 * (`INVALID_STATE` for a call that does not fit the playback state, `NOT_FOUND` for an unknown
 * source, `INVALID_ARGUMENT`) reach the client as they are. Before that, a call made out of
 * order (`attachSource` before `load`, `play` before `allSourcesAttached`, ...) is refused with
 * `INVALID_STATE` naming what must come first (`pipeline-call-order.ts`), and a source the
 * engine cannot play with `INVALID_ARGUMENT` naming the supported types (`source-checks.ts`). A haveData answering a request that
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
  /** The pipeline, once `allSourcesAttached` is known to have come (INVALID_STATE otherwise). */
  const playingPipelineOf = (method: string, pipelineId: number, client: Client) => {
    const service = serviceOf(method, pipelineId, client);
    callOrderOf(service, pipelineId).checkPlayback(method);
    return service.pipeline;
  };
  return router
    .handle(PipelineMethods.load, ({ pipelineId, ...params }, client) => {
      const service = serviceOf(PipelineMethods.load.name, pipelineId, client);
      service.pipeline.load(params);
      callOrderOf(service, pipelineId).loaded();
      return {};
    })
    .handle(PipelineMethods.attachSource, ({ pipelineId, source }, client) => {
      const method = PipelineMethods.attachSource.name;
      const service = serviceOf(method, pipelineId, client);
      checkSource(context.pipelines.engine, source, method);
      const order = callOrderOf(service, pipelineId);
      order.checkAttach();
      const sourceId = service.pipeline.attachSource(source);
      order.sourceAttached();
      context.pipelines.noteSource(pipelineId, sourceId, source.type);
      return { sourceId };
    })
    .handle(PipelineMethods.removeSource, ({ pipelineId, sourceId }, client) => {
      const service = serviceOf(PipelineMethods.removeSource.name, pipelineId, client);
      service.pipeline.removeSource(sourceId);
      callOrderOf(service, pipelineId).sourceRemoved();
      context.pipelines.forgetSource(pipelineId, sourceId);
      return {};
    })
    .handle(PipelineMethods.allSourcesAttached, ({ pipelineId }, client) => {
      const service = serviceOf(PipelineMethods.allSourcesAttached.name, pipelineId, client);
      const order = callOrderOf(service, pipelineId);
      order.checkAllSourcesAttached();
      service.pipeline.allSourcesAttached();
      order.allSourcesAttached();
      return {};
    })
    .handle(PipelineMethods.play, ({ pipelineId }, client) => {
      playingPipelineOf(PipelineMethods.play.name, pipelineId, client).play();
      return {};
    })
    .handle(PipelineMethods.pause, ({ pipelineId }, client) => {
      playingPipelineOf(PipelineMethods.pause.name, pipelineId, client).pause();
      return {};
    })
    .handle(PipelineMethods.stop, ({ pipelineId }, client) => {
      pipelineOf(PipelineMethods.stop.name, pipelineId, client).stop();
      return {};
    })
    .handle(PipelineMethods.setPlaybackRate, ({ pipelineId, rate }, client) => {
      pipelineOf(PipelineMethods.setPlaybackRate.name, pipelineId, client).setPlaybackRate(rate);
      return {};
    })
    .handle(PipelineMethods.setPosition, ({ pipelineId, positionNs }, client) => {
      playingPipelineOf(PipelineMethods.setPosition.name, pipelineId, client).setPosition(
        positionNs,
      );
      return {};
    })
    .handle(PipelineMethods.getPosition, ({ pipelineId }, client) => ({
      positionNs: pipelineOf(PipelineMethods.getPosition.name, pipelineId, client).getPosition(),
    }))
    .handle(PipelineMethods.flush, ({ pipelineId, sourceId, resetTime }, client) => {
      pipelineOf(PipelineMethods.flush.name, pipelineId, client).flush(sourceId, resetTime);
      return {};
    })
    .handle(PipelineMethods.setVolume, ({ pipelineId, volume, durationMs, easing }, client) => {
      pipelineOf(PipelineMethods.setVolume.name, pipelineId, client).setVolume(
        volume,
        durationMs,
        easing,
      );
      return {};
    })
    .handle(PipelineMethods.getVolume, ({ pipelineId }, client) => ({
      volume: pipelineOf(PipelineMethods.getVolume.name, pipelineId, client).getVolume(),
    }))
    .handle(PipelineMethods.setMute, ({ pipelineId, sourceId, mute }, client) => {
      pipelineOf(PipelineMethods.setMute.name, pipelineId, client).setMute(sourceId, mute);
      return {};
    })
    .handle(PipelineMethods.haveData, (params, client) => {
      // "stale" and "retrying" are normal outcomes (a seek racing the answer, no samples yet).
      serviceOf(PipelineMethods.haveData.name, params.pipelineId, client).haveData(params);
      return {};
    })
    .handle(PipelineMethods.getStats, ({ pipelineId, sourceId }, client) =>
      pipelineOf(PipelineMethods.getStats.name, pipelineId, client).getStats(sourceId),
    );
}
