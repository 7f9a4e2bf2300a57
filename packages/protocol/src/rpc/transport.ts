import type { RialtoError } from "../errors.ts";

/** Where a transport delivers what it receives. */
export interface TransportSink {
  /** Bytes in arrival order; split and coalesced arbitrarily. Valid only during the call. */
  data(bytes: Uint8Array): void;
  /** The transport closed; `cause` says why when it was not a clean close. Called once. */
  close(cause?: RialtoError): void;
}

/**
 * The byte stream the RPC engine runs over: three calls and a sink. Implementations queue what
 * the OS cannot take yet and flush it when the OS is ready again (no write ever drops bytes).
 */
export interface Transport {
  /** Starts delivery to `sink`; bytes that arrived before are delivered first. Called once. */
  start(sink: TransportSink): void;
  /** Queues `bytes` for sending; returns false when the transport is already closed. */
  write(bytes: Uint8Array): boolean;
  /** Closes the stream; the sink's `close` runs once. Idempotent. */
  close(cause?: RialtoError): void;
  /** Bytes accepted by `write` but not yet handed to the OS. */
  readonly bufferedBytes: number;
}
