export type {
  ClientGateway,
  ClientGatewayOptions,
  CreateClientGateway,
  ResourceOwner,
} from "./client-gateway.ts";
