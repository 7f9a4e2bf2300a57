export type { ClientGateway, ClientGatewayOptions, ResourceOwner } from "./client-gateway.ts";
export { decodeFdTag, encodeFdTag, FD_TAG_RECORD_SIZE } from "./fd-tag.ts";
export { createClientGateway } from "./rpc-client-gateway.ts";
