import { type AnyEvent, RegisteredClient } from "@rialto/protocol";
import type { Client } from "../client-state.ts";
import { ClientState } from "../client-state.ts";

/** An event a {@link BookClient} was sent. */
export interface SentEvent {
  readonly event: string;
  readonly payload: unknown;
}

/**
 * A registered client without a socket, for tests of the books: a real `RegisteredClient`
 * (so `emit` sequences events as in production) bound to a connection that records them.
 */
export interface BookClient {
  readonly client: Client;
  /** Every event sent to the client while bound, in order. */
  readonly sent: SentEvent[];
}

/** A fresh registered client with id `id`, its events recorded. */
export function bookClient(id: number): BookClient {
  const client: Client = new RegisteredClient<ClientState>(
    id,
    { maxUnackedCalls: 64, maxUnackedEvents: 1024 },
    () => performance.now(),
  );
  client.session = new ClientState();
  const sent: SentEvent[] = [];
  client.bind({
    emit: (event: AnyEvent, payload: unknown) => {
      sent.push({ event: event.name, payload });
      return true;
    },
    close: () => {},
  });
  return { client, sent };
}
