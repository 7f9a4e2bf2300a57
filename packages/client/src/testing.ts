/**
 * `@rialto/client/testing`: what tests and benchmarks use and apps do not: the wire form of a
 * source config (a benchmark plans the session server's pipeline from it in process).
 */
export { toWireSource } from "./media-pipeline-sources.ts";
