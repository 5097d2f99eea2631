// Typed wire errors: every decoding failure is a WireError carrying the NOTIFICATION
// code/subcode/data (RFC 4271 §4.5, §6) and the RFC 7606 action it demands.

/** RFC 7606 §2 actions, ordered by strength (a higher number wins). */
export const ErrorAction = {
  None: 0,
  AttributeDiscard: 1,
  TreatAsWithdraw: 2,
  AfiSafiDisable: 3,
  SessionReset: 4,
} as const;
export type ErrorAction = (typeof ErrorAction)[keyof typeof ErrorAction];

export const ErrCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  Fsm: 5,
  Cease: 6,
  RouteRefresh: 7,
} as const;

/** RFC 4271 §6.1 */
export const HeaderSub = { ConnectionNotSynchronized: 1, BadMessageLength: 2, BadMessageType: 3 } as const;
/** RFC 4271 §6.2, RFC 5492 §5 */
export const OpenSub = {
  Unspecific: 0, UnsupportedVersion: 1, BadPeerAs: 2, BadBgpId: 3, UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6, UnsupportedCapability: 7, RoleMismatch: 11,
} as const;
/** RFC 4271 §6.3 */
export const UpdateSub = {
  MalformedAttributeList: 1, UnrecognizedWellKnown: 2, MissingWellKnown: 3, AttributeFlagsError: 4,
  AttributeLengthError: 5, InvalidOrigin: 6, InvalidNextHop: 8, OptionalAttributeError: 9,
  InvalidNetworkField: 10, MalformedAsPath: 11,
} as const;
/** RFC 4486 / RFC 8203; Hard Reset RFC 8538; BFD Down RFC 9384 */
export const CeaseSub = {
  MaxPrefixes: 1, AdministrativeShutdown: 2, PeerDeconfigured: 3, AdministrativeReset: 4,
  ConnectionRejected: 5, OtherConfigurationChange: 6, ConnectionCollision: 7, OutOfResources: 8,
  HardReset: 9, BfdDown: 10,
} as const;
/** RFC 6608 FSM error subcodes */
export const FsmSub = { Unspecified: 0, UnexpectedInOpenSent: 1, UnexpectedInOpenConfirm: 2, UnexpectedInEstablished: 3 } as const;

export class WireError extends Error {
  constructor(
    readonly code: number,
    readonly subcode: number,
    readonly data: Buffer,
    readonly action: ErrorAction,
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

export const sessionReset = (code: number, subcode: number, message: string, data: Buffer = Buffer.alloc(0)) =>
  new WireError(code, subcode, data, ErrorAction.SessionReset, message);
