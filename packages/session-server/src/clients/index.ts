export { type ClientSessionsOptions, createClientSessions } from "./client-sessions.ts";
export { ClientState, type RegisteredPool } from "./client-state.ts";
export type { Client, ClientRouter, ClientsContext } from "./clients-context.ts";
export { type ClientPipelines, PipelineBook, type PipelineRecord } from "./pipeline-book.ts";
