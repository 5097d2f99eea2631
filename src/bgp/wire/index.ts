// Public API of the BGP wire codec: pure bytes ⇄ messages, no I/O. Everything outside src/bgp/wire
// should import from here (types.ts and errors.ts may be imported directly too).
// Who throws: Framer.push, decodeOpen, decodeNotification, decodeRouteRefresh and decodeMessage for
// non-UPDATE types throw WireError (always SessionReset). decodeUpdate never throws: it returns errors
// and the strongest RFC 7606 action in the message, SessionReset included.
export * from './types.js';
export * from './errors.js';
export { Framer, checkHeader } from './framer.js';
export { decodeOpen, encodeOpen } from './open.js';
export { CAPABILITIES, CapCode, decodeCapabilities, emptyCapabilities, encodeCapabilities } from './capabilities.js';
export { validateOpen, negotiate, openAs, AS_TRANS, BGP_VERSION, type Negotiated } from './validate.js';
export { decodeUpdate } from './update.js';
export { UpdateWriter, type OutPrefix } from './update-writer.js';
export type { AttrInterner, PathAttrsInput, RawEntry } from './interning.js';
export { forEachPrefix, forEachIPv4, countPrefixes, checkNlri } from './nlri.js';
export { parsePrefix, formatPrefix, ipv4ToUint, type Prefix } from './prefix.js';
export {
  KEEPALIVE, encodeNotification, encodeHardReset, encodeShutdownNotification, shutdownData, decodeNotification, encodeRouteRefresh, decodeRouteRefresh,
} from './notification.js';
export { decodeMessage } from './message.js';
export { ATTRIBUTES, encodeAttrs, formatAttrs } from './attributes/table.js';
export { AttrCode, AttrFlag } from './attributes/common.js';
export { formatAsPath, mergeAs4Path, pathLength } from './attributes/as-path.js';
export { BufWriter, HEADER_LEN } from './writer.js';
