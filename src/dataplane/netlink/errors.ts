// Netlink failures as data: every request gets a result naming the object it was about, the
// errno (with its symbolic code and text) and the kernel's extended-ACK message when it sent one,
// e.g. "add route 10.0.0.0/24 via 198.18.0.9 table 254: ENETUNREACH (Network is unreachable): Nexthop has invalid gateway".

import { getSystemErrorMap } from 'node:util';

export interface NlOk {
  ok: true;
}

export interface NlFailure {
  ok: false;
  errno: number;
  /** Symbolic errno ("EEXIST"), or "EUNKNOWN<n>". */
  code: string;
  /** Readable: what was asked, the errno and the kernel's reason. */
  message: string;
  /** NLMSGERR_ATTR_MSG, the kernel's own reason text, when present. */
  extack?: string;
}

export type NlResult = NlOk | NlFailure;

let errMap: Map<number, [string, string]> | undefined;

/** errno -> ["EEXIST", "file already exists"] from libuv's table (keys are negative). */
/** Linux names libuv spells differently (libuv maps 95 to ENOTSUP, "...on socket"). */
const LINUX_NAMES: Readonly<Record<number, { code: string; text: string }>> = {
  95: { code: 'EOPNOTSUPP', text: 'operation not supported' },
};

export function errnoInfo(errno: number): { code: string; text: string } {
  const linux = LINUX_NAMES[Math.abs(errno)];
  if (linux) return linux;
  errMap ??= getSystemErrorMap();
  const e = errMap.get(-Math.abs(errno));
  return e ? { code: e[0], text: e[1] } : { code: `EUNKNOWN${errno}`, text: `errno ${errno}` };
}

export function failure(what: string, errno: number, extack?: string): NlFailure {
  const { code, text } = errnoInfo(errno);
  const f: NlFailure = {
    ok: false,
    errno,
    code,
    message: `${what}: ${code} (${text})${extack ? ': ' + extack : ''}`,
  };
  if (extack) f.extack = extack;
  return f;
}

export class NetlinkError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly extack: string | undefined;

  constructor(f: NlFailure) {
    super(f.message);
    this.name = 'NetlinkError';
    this.errno = f.errno;
    this.code = f.code;
    this.extack = f.extack;
  }
}

/** Throw the first failure of a batch (with a count of the others); for callers that want all-or-error. */
export function throwIfFailed(results: readonly NlResult[]): void {
  const failed = results.filter((r): r is NlFailure => !r.ok);
  if (failed.length === 0) return;
  const first = failed[0]!;
  const err = new NetlinkError(
    failed.length === 1 ? first : { ...first, message: `${first.message} (and ${failed.length - 1} more failures)` },
  );
  throw err;
}
