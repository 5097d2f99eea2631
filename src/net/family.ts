// The one address-family type: 4 or 6. BGP's AFI/SAFI pair is a wire concept and maps to this in
// src/bgp/wire/types.ts (familyOfKey/unicastKey); everything else speaks Family.

export type Family = 4 | 6;

/** Address width in bits: 32 or 128. */
export const bitsOf = (f: Family): 32 | 128 => (f === 4 ? 32 : 128);

/** Address width in bytes: 4 or 16. */
export const bytesOf = (f: Family): 4 | 16 => (f === 4 ? 4 : 16);
