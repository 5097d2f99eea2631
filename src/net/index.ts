// Addresses and prefixes for all of Kite: one Family, one IpAddr, one Prefix, and allocation-free
// IPv4-as-uint32 and IPv6-into-buffer helpers for the codecs. Text appears only when asked for.
export { bitsOf, bytesOf, type Family } from './family.js';
export { containsV4, formatIpv4, maskV4, networkV4, parseIpv4, readIpv4, writeIpv4 } from './ipv4.js';
export { formatIpv6, parseIpv6Into } from './ipv6.js';
export { familyOfText, IpAddr, mustParseAddr, NetParseError, parseAddr, writeAddrText, type NetParseReason } from './addr.js';
export { checkPrefix, mustParsePrefix, parsePrefix, Prefix, type PrefixParseOptions } from './prefix.js';
