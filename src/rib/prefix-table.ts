// Compact prefix index: maps (family, prefix bytes, length) to a dense slot number.
// IPv4 lives in typed arrays behind an open-addressing hash (no object per prefix),
// so a million /24s cost a few tens of bytes each; IPv6 (rare in pod networks) uses a Map.
import { IPV4_UNICAST, IPV6_UNICAST, type FamilyKey } from '../bgp/wire/types.js';
import { formatIpv4, formatIpv6, IpAddr, Prefix, readIpv4, writeIpv4, type Family } from '../net/index.js';

const EMPTY = -1;

export class PrefixTable {
  /** Per slot: family key (0 = free). */
  family: Uint16Array = new Uint16Array(1024);
  /** Per IPv4 slot: the address as uint32. */
  addr4: Uint32Array = new Uint32Array(1024);
  /** Per slot: prefix length. */
  plen: Uint8Array = new Uint8Array(1024);
  /** Per IPv6 slot: the 16 address bytes (IPv6 only). */
  private readonly addr6 = new Map<number, Uint8Array>();
  private readonly index6 = new Map<string, number>();

  private hash: Int32Array = new Int32Array(2048).fill(EMPTY);
  private mask = 2047;
  private used4 = 0;
  private nextSlot = 0;
  private readonly free: number[] = [];
  /** Number of live prefixes per family. */
  count4 = 0;
  count6 = 0;

  /** Capacity of the slot arrays; parallel arrays held by others grow with onGrow. */
  get capacity(): number { return this.family.length; }
  onGrow: (capacity: number) => void = () => {};

  private static h(addr: number, len: number): number {
    // Multiplicative hash over address and length; Math.imul keeps it in int32.
    let x = Math.imul(addr ^ (len << 24) ^ (addr >>> 16), 0x9e3779b1);
    x ^= x >>> 15;
    return x;
  }

  find4(addr: number, len: number): number {
    const { hash, mask } = this;
    let i = PrefixTable.h(addr, len) & mask;
    for (;;) {
      const s = hash[i]!;
      if (s === EMPTY) return -1;
      if (this.addr4[s] === addr && this.plen[s] === len && this.family[s] === IPV4_UNICAST) return s;
      i = (i + 1) & mask;
    }
  }

  /** Slot for an IPv4 prefix, created when missing. */
  get4(addr: number, len: number): number {
    const found = this.find4(addr, len);
    if (found >= 0) return found;
    // Before the new slot is filled in: rehash reads the slot arrays, and the slot goes in below.
    if ((this.used4 + 1) * 2 > this.hash.length) this.rehash(this.hash.length * 2);
    const s = this.alloc();
    this.family[s] = IPV4_UNICAST;
    this.addr4[s] = addr;
    this.plen[s] = len;
    this.insertHash(s);
    this.used4++;
    this.count4++;
    return s;
  }

  private key6(bytes: Uint8Array, len: number): string {
    return Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex') + '/' + len;
  }

  find6(bytes: Uint8Array, len: number): number {
    return this.index6.get(this.key6(bytes, len)) ?? -1;
  }

  get6(bytes: Uint8Array, len: number): number {
    const key = this.key6(bytes, len);
    const found = this.index6.get(key);
    if (found !== undefined) return found;
    const s = this.alloc();
    this.family[s] = IPV6_UNICAST;
    this.plen[s] = len;
    this.addr6.set(s, Uint8Array.from(bytes.subarray(0, 16)));
    this.index6.set(key, s);
    this.count6++;
    return s;
  }

  find(family: FamilyKey, bytes: Uint8Array, len: number): number {
    if (family === IPV4_UNICAST) return this.find4(readIpv4(bytes), len);
    return this.find6(bytes, len);
  }

  get(family: FamilyKey, bytes: Uint8Array, len: number): number {
    if (family === IPV4_UNICAST) return this.get4(readIpv4(bytes), len);
    return this.get6(bytes, len);
  }

  /** The 4 or 16 address bytes of a slot (a fresh array: for display and export). */
  bytes(slot: number): Uint8Array {
    if (this.family[slot] === IPV4_UNICAST) {
      const out = new Uint8Array(4);
      writeIpv4(this.addr4[slot]!, out, 0);
      return out;
    }
    return this.addr6.get(slot)!;
  }

  /** Writes a slot's address bytes into `out` (4 or 16 bytes used) and returns it: no allocation. */
  bytesInto(slot: number, out: Uint8Array): Uint8Array {
    if (this.family[slot] === IPV4_UNICAST) {
      writeIpv4(this.addr4[slot]!, out, 0);
      out.fill(0, 4);
      return out;
    }
    out.set(this.addr6.get(slot)!);
    return out;
  }

  // Readers outside the table (dataplane, API, logs) get a slot's prefix through these, never
  // through text: IPv4 stays a uint32 (addr4[slot], plen[slot]) all the way to the kernel.

  /** Address family of a live slot. */
  familyOf(slot: number): Family {
    return this.family[slot] === IPV4_UNICAST ? 4 : 6;
  }

  /** The slot's prefix as a value (one small allocation: for the API, logs and tests, not per route). */
  prefix(slot: number): Prefix {
    if (this.family[slot] === IPV4_UNICAST) return Prefix.v4(this.addr4[slot]!, this.plen[slot]!);
    return Prefix.of(IpAddr.v6(this.addr6.get(slot)!), this.plen[slot]!);
  }

  /** Writes the slot's address (4 or 16 bytes) at out[off], as netlink RTA_DST wants it; returns the offset after. */
  writeAddr(slot: number, out: Uint8Array, off: number): number {
    if (this.family[slot] === IPV4_UNICAST) return writeIpv4(this.addr4[slot]!, out, off);
    out.set(this.addr6.get(slot)!, off);
    return off + 16;
  }

  /** Canonical prefix text ("10.244.2.0/26", RFC 5952 for IPv6): only where text is the output. */
  text(slot: number): string {
    const a = this.family[slot] === IPV4_UNICAST ? formatIpv4(this.addr4[slot]!) : formatIpv6(this.addr6.get(slot)!);
    return `${a}/${this.plen[slot]!}`;
  }

  /** The slot holding exactly this prefix (host bits must be clear), or -1. */
  findPrefix(p: Prefix): number {
    return p.family === 4 ? this.find4(p.v4, p.len) : this.find6(p.addr.v6!, p.len);
  }

  release(slot: number): void {
    const fam = this.family[slot];
    if (fam === 0) return;
    if (fam === IPV4_UNICAST) {
      this.deleteHash(slot);
      this.used4--;
      this.count4--;
    } else {
      const b = this.addr6.get(slot)!;
      this.index6.delete(this.key6(b, this.plen[slot]!));
      this.addr6.delete(slot);
      this.count6--;
    }
    this.family[slot] = 0;
    this.free.push(slot);
  }

  /** Calls fn for every live slot. */
  forEach(fn: (slot: number) => void): void {
    const fam = this.family;
    for (let s = 0; s < this.nextSlot; s++) if (fam[s] !== 0) fn(s);
  }

  private alloc(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    const s = this.nextSlot++;
    if (s >= this.family.length) this.grow(this.family.length * 2);
    return s;
  }

  private grow(n: number): void {
    this.family = growU16(this.family, n);
    this.addr4 = growU32(this.addr4, n);
    this.plen = growU8(this.plen, n);
    this.onGrow(n);
  }

  private insertHash(s: number): void {
    const { hash, mask } = this;
    let i = PrefixTable.h(this.addr4[s]!, this.plen[s]!) & mask;
    while (hash[i] !== EMPTY) i = (i + 1) & mask;
    hash[i] = s;
  }

  /**
   * Rebuilds the hash at `size` from the slot arrays, read in slot order (sequential memory; the
   * old hash's order would read addr4 and plen at random), the probe loop inline.
   */
  private rehash(size: number): void {
    const hash = new Int32Array(size).fill(EMPTY);
    const mask = size - 1;
    const { family, addr4, plen } = this;
    for (let s = 0; s < this.nextSlot; s++) {
      if (family[s] !== IPV4_UNICAST) continue;
      let i = PrefixTable.h(addr4[s]!, plen[s]!) & mask;
      while (hash[i] !== EMPTY) i = (i + 1) & mask;
      hash[i] = s;
    }
    this.hash = hash;
    this.mask = mask;
  }

  /** Linear-probing deletion with backward shift (no tombstones). */
  private deleteHash(slot: number): void {
    const { hash, mask } = this;
    let i = PrefixTable.h(this.addr4[slot]!, this.plen[slot]!) & mask;
    while (hash[i] !== slot) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      hash[i] = EMPTY;
      for (;;) {
        j = (j + 1) & mask;
        const s = hash[j]!;
        if (s === EMPTY) return;
        const k = PrefixTable.h(this.addr4[s]!, this.plen[s]!) & mask;
        // Move s back to i unless its home k lies cyclically in (i, j].
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
        hash[i] = s;
        i = j;
        break;
      }
    }
  }
}

export function growU8(a: Uint8Array, n: number): Uint8Array { const b = new Uint8Array(n); b.set(a); return b; }
export function growU16(a: Uint16Array, n: number): Uint16Array { const b = new Uint16Array(n); b.set(a); return b; }
export function growU32(a: Uint32Array, n: number): Uint32Array { const b = new Uint32Array(n); b.set(a); return b; }
export function growI32(a: Int32Array, n: number, fill = 0): Int32Array {
  const b = new Int32Array(n);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}
