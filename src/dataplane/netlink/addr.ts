// Interface addresses: struct ifaddrmsg + IFA_* attributes (linux/if_addr.h) for RTM_NEWADDR /
// RTM_DELADDR and address dumps. As iproute2 does, a plain (non point-to-point) address is sent
// as both IFA_LOCAL and IFA_ADDRESS.

import { AF, IFA, RT_SCOPE, SIZE } from './constants.js';
import { formatIp, ipFamily, type IpFamily } from './ip.js';
import { forEachAttr, readString } from './reader.js';
import type { NlWriter } from './writer.js';

export interface Address {
  family: IpFamily;
  index: number;
  address: string;
  prefixLen: number;
  scope: number;
  /** IFA_F_* (from IFA_FLAGS when present: the 8-bit ifa_flags cannot hold them all). */
  flags: number;
  /** IFA_LOCAL when it differs from IFA_ADDRESS (point-to-point peers). */
  local?: string;
  label?: string;
}

export type AddressSpec = Partial<Address> & { index: number; address: string; prefixLen: number };

export function writeAddress(w: NlWriter, a: AddressSpec): void {
  const family = a.family ?? ipFamily(a.address);
  w.u8(family === 4 ? AF.INET : AF.INET6);
  w.u8(a.prefixLen);
  w.u8((a.flags ?? 0) & 0xff);
  w.u8(a.scope ?? RT_SCOPE.UNIVERSE);
  w.u32(a.index);
  w.attrIp(IFA.LOCAL, family, a.local ?? a.address);
  w.attrIp(IFA.ADDRESS, family, a.address);
  if (a.flags !== undefined && a.flags > 0xff) w.attrU32(IFA.FLAGS, a.flags);
  if (a.label !== undefined) w.attrString(IFA.LABEL, a.label);
}

export function readAddress(buf: Buffer, body: number, end: number): Address | undefined {
  if (body + SIZE.IFADDRMSG > end) return undefined;
  const af = buf[body]!;
  if (af !== AF.INET && af !== AF.INET6) return undefined;
  const a: Address = {
    family: af === AF.INET ? 4 : 6,
    prefixLen: buf[body + 1]!,
    flags: buf[body + 2]!,
    scope: buf[body + 3]!,
    index: buf.readUInt32LE(body + 4),
    address: '',
  };
  let local: string | undefined;
  forEachAttr(buf, body + SIZE.IFADDRMSG, end, (type, at, len) => {
    if (type === IFA.ADDRESS) a.address = formatIp(buf, at, len);
    else if (type === IFA.LOCAL) local = formatIp(buf, at, len);
    else if (type === IFA.LABEL) a.label = readString(buf, at, len);
    else if (type === IFA.FLAGS && len >= 4) a.flags = buf.readUInt32LE(at);
  });
  if (a.address === '' && local !== undefined) a.address = local;
  else if (local !== undefined && local !== a.address) a.local = local;
  return a;
}

export function describeAddress(a: AddressSpec): string {
  return `address ${a.address}/${a.prefixLen} on link #${a.index}`;
}
