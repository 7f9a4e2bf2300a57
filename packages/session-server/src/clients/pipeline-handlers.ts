import { PipelineMethods, RialtoError } from "@rialto/protocol";
import type { ClientRouter, ClientsContext } from "./clients-context.ts";

/**
 * Creation (up to `maxPlaybackSessions` over all clients; each pipeline gets a playback
 * partition and an engine pipeline, see `PipelineBook`) and destruction of media pipelines,
 * which need the app Running (INVALID_STATE), and the capability questions, answered by the
 * app's engine in any state; the playback methods are in `pipeline-playback-handlers.ts`.
 */
export function addPipelineHandlers(router: ClientRouter, context: ClientsContext): ClientRouter {
  return (
    router
      .handle(PipelineMethods.create, (params, client) => {
        requireRunning(context, PipelineMethods.create.name);
        const pipeline = context.pipelines.create(client, params);
        context.logger.info(
          { clientId: client.id, pipelineId: pipeline.id, partition: pipeline.partition },
          "pipeline created",
        );
        return { pipelineId: pipeline.id };
      })
      .handle(PipelineMethods.destroy, ({ pipelineId }, client) => {
        requireRunning(context, PipelineMethods.destroy.name);
        context.pipelines.destroy(client, pipelineId);
        context.logger.info({ clientId: client.id, pipelineId }, "pipeline destroyed");
        return {};
      })
      // Capabilities answer in any app state: a browser asks them before it plays anything.
      .handle(PipelineMethods.getSupportedMimeTypes, ({ sourceType }) => ({
        mimeTypes: context.pipelines.engine.getSupportedMimeTypes(sourceType),
      }))
      .handle(PipelineMethods.isMimeTypeSupported, ({ mimeType }) => ({
        supported: context.pipelines.engine.isMimeTypeSupported(mimeType),
      }))
  );
}

/** Media calls need the app Running (the session server Active): INVALID_STATE otherwise. */
export function requireRunning(context: ClientsContext, method: string): void {
  if (context.applicationState !== "Running") {
    throw new RialtoError(
      "INVALID_STATE",
      `"${method}": media calls need the app Running (it is ${context.applicationState})`,
    );
  }
}
