export type { ClientGateway, ClientGatewayOptions, ResourceOwner } from "./client-gateway.ts";
export { createClientGateway } from "./rpc-client-gateway.ts";
