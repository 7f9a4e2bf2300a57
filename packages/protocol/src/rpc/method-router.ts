import { describeValue, RialtoError, toRialtoError } from "../errors.ts";
import type { AnyMethod, ParamsOf, ResultOf } from "./descriptor.ts";
import type { RequestEnvelope, ResponseEnvelope } from "./envelope.ts";

/** A method implementation: gets validated params and the connection's context. */
export type MethodHandler<M extends AnyMethod, Context> = (
  params: ParamsOf<M>,
  context: Context,
) => ResultOf<M> | Promise<ResultOf<M>>;

interface Route<Context> {
  method: AnyMethod;
  handler: MethodHandler<AnyMethod, Context>;
}

/**
 * Maps wire method names to handlers; validates params before and results after every call. One
 * router usually serves every connection of a server, each call getting its connection's context.
 */
export class MethodRouter<Context> {
  readonly #routes = new Map<string, Route<Context>>();

  /** Registers `handler` for `method`; a second handler for the same name is a bug and throws. */
  handle<M extends AnyMethod>(method: M, handler: MethodHandler<M, Context>): this {
    if (this.#routes.has(method.name)) {
      throw new RialtoError("INVALID_ARGUMENT", `method "${method.name}" already has a handler`);
    }
    this.#routes.set(method.name, {
      method,
      handler: handler as MethodHandler<AnyMethod, Context>,
    });
    return this;
  }

  /** True when `name` has a handler. */
  has(name: string): boolean {
    return this.#routes.has(name);
  }

  /**
   * Runs one request and always produces its response (errors included): synchronously when the
   * handler is synchronous, which keeps the common small call off extra event-loop turns.
   */
  dispatch(
    request: RequestEnvelope,
    context: Context,
  ): ResponseEnvelope | Promise<ResponseEnvelope> {
    const route = this.#routes.get(request.method);
    if (route === undefined) {
      return errorResponse(
        request.id,
        new RialtoError("UNKNOWN_METHOD", `unknown method ${describeValue(request.method)}`),
      );
    }
    let result: unknown;
    try {
      const params = route.method.params.assert(request.params, `"${request.method}" params`);
      result = route.handler(params, context);
    } catch (error) {
      return errorResponse(request.id, toRialtoError(error));
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => checkedResult(request, route.method, value),
        (error) => errorResponse(request.id, toRialtoError(error)),
      );
    }
    return checkedResult(request, route.method, result);
  }
}

function checkedResult(
  request: RequestEnvelope,
  method: AnyMethod,
  result: unknown,
): ResponseEnvelope {
  if (method.result.check(result)) return { id: request.id, result };
  const error = new RialtoError(
    "INTERNAL",
    `"${request.method}" handler returned an invalid result ${describeValue(result)}`,
  );
  return errorResponse(request.id, error);
}

function errorResponse(id: number, error: RialtoError): ResponseEnvelope {
  return { id, error: error.toWire() };
}
