import Type, { type Static } from "typebox";
import { WireError } from "../errors.ts";
import { compileValidator } from "./descriptor.ts";

const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Counter = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const WireName = Type.String({ minLength: 1, maxLength: 128 });

/**
 * The body of a Request frame. `ack` is the caller's highest consecutive reply id seen (replies
 * up to it may leave the peer's reply cache); `eventAck` the highest consecutive event seq seen.
 */
export const RequestEnvelope = Type.Object(
  {
    id: Id,
    method: WireName,
    params: Type.Unknown(),
    ack: Type.Optional(Counter),
    eventAck: Type.Optional(Counter),
  },
  { additionalProperties: false },
);
export type RequestEnvelope = Static<typeof RequestEnvelope>;

/** The body of a Response frame: exactly one of `result` or `error`. */
export const ResponseEnvelope = Type.Object(
  { id: Id, result: Type.Optional(Type.Unknown()), error: Type.Optional(WireError) },
  { additionalProperties: false },
);
export type ResponseEnvelope = Static<typeof ResponseEnvelope>;

/** The body of an Event frame; `seq` numbers events that must survive reconnects. */
export const EventEnvelope = Type.Object(
  { event: WireName, payload: Type.Unknown(), seq: Type.Optional(Id) },
  { additionalProperties: false },
);
export type EventEnvelope = Static<typeof EventEnvelope>;

/** The body of a Notice frame: a protocol-level error the peer caused. */
export const NoticeEnvelope = Type.Object({ error: WireError }, { additionalProperties: false });
export type NoticeEnvelope = Static<typeof NoticeEnvelope>;

/** Compiled envelope validators. */
export const Envelopes = {
  request: compileValidator(RequestEnvelope),
  response: compileValidator(ResponseEnvelope),
  event: compileValidator(EventEnvelope),
  notice: compileValidator(NoticeEnvelope),
};
