export type {
  ClientGateway,
  ClientGatewayOptions,
  CreateClientGateway,
  ResourceOwner,
} from "./client-gateway.ts";
export { createClientGateway } from "./rpc-client-gateway.ts";
