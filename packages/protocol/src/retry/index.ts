export * from "./call-stats.ts";
export * from "./event-log.ts";
export * from "./event-sequence.ts";
export * from "./reconnect-policy.ts";
export * from "./registered-client.ts";
export * from "./reply-cache.ts";
export * from "./retry-client.ts";
export * from "./retry-server.ts";
