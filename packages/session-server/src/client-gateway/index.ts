export { createClientSessions as createClientGateway } from "../clients/client-sessions.ts";
export type {
  ClientGateway,
  ClientGatewayOptions,
  CreateClientGateway,
  ResourceOwner,
} from "./client-gateway.ts";
