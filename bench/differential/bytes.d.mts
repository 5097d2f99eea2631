// Types of the differential check's byte builder (bytes.mjs), so the tests that use it are type-checked.
export const MARKER: Buffer;
export const T: { OPEN: 1; UPDATE: 2; NOTIFICATION: 3; KEEPALIVE: 4; ROUTE_REFRESH: 5 };
export interface Segment { type: number; asns: number[]; count?: number }
export function cat(...parts: (Buffer | Uint8Array | number[])[]): Buffer;
export function ip4(s: string): Buffer;
export function ip6(s: string): Buffer;
export function msg(type: number, body?: Buffer, opts?: { length?: number; marker?: Buffer }): Buffer;
export function keepalive(): Buffer;
export function notification(code: number, sub: number, data?: Buffer): Buffer;
export function cap(code: number, value?: Buffer, len?: number): Buffer;
export function capMp(afi: number, safi: number): Buffer;
export function capAs4(as: number): Buffer;
export function paramCaps(...caps: Buffer[]): Buffer;
export function defaultCaps(as: number, as4?: boolean): Buffer[];
export function open(o: { version?: number; as: number; hold?: number; id: string; params?: Buffer; paramLen?: number }): Buffer;
export function attr(flags: number, code: number, value: Buffer, opts?: { length?: number }): Buffer;
export function origin(v: number): Buffer;
export function asPath(segments: Segment[], as4?: boolean): Buffer;
export function seq(...asns: number[]): Segment;
export function nextHop(a: string): Buffer;
export function communities(...c: number[]): Buffer;
export function prefix(p: string, opts?: { len?: number; octets?: number }): Buffer;
export function nlri(...ps: (string | Buffer)[]): Buffer;
export function mpReach(o: { afi?: number; safi?: number; nh: Buffer; nhLen?: number; reserved?: number; nlri?: Buffer }, flags?: number): Buffer;
export function update(o: { withdrawn?: Buffer; attrs?: Buffer; nlri?: Buffer; wLen?: number; aLen?: number }): Buffer;
export interface ObservedRoute {
  origin: number; path: { type: number; asns: number[] }[]; comm: number[]; ext: string[]; large: string[];
  unknown: { code: number; flags: number; len: number }[]; agg: boolean; atomic: boolean; med?: number;
}
export function readUpdate(body: Buffer): { withdrawn: string[]; announced: string[]; route: ObservedRoute };
