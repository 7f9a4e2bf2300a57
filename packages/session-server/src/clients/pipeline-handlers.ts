import { PipelineMethods, RialtoError } from "@rialto/protocol";
import type { ClientRouter, ClientsContext } from "./clients-context.ts";

/**
 * The media-pipeline methods served so far: creation (up to `maxPlaybackSessions` over all
 * clients) and destruction. Like every media call they need the app Running (INVALID_STATE).
 */
export function addPipelineHandlers(router: ClientRouter, context: ClientsContext): ClientRouter {
  return router
    .handle(PipelineMethods.create, (params, client) => {
      requireRunning(context, "pipeline/create");
      const pipeline = context.pipelines.create(client.session.pipelines, params);
      context.logger.info(
        { clientId: client.id, pipelineId: pipeline.id, partition: pipeline.partition },
        "pipeline created",
      );
      return { pipelineId: pipeline.id };
    })
    .handle(PipelineMethods.destroy, ({ pipelineId }, client) => {
      requireRunning(context, "pipeline/destroy");
      context.pipelines.destroy(client.session.pipelines, pipelineId);
      context.logger.info({ clientId: client.id, pipelineId }, "pipeline destroyed");
      return {};
    });
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
