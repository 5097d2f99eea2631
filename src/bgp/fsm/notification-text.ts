// Human-readable NOTIFICATION codes for logs, lastError and the CLI (RFC 4271 §4.5, §6;
// RFC 4486 Cease subcodes; RFC 8203/9003 shutdown communication; RFC 8538 Hard Reset). The encoders live in the
// wire codec; this file only turns codes into text.

const CODES: Record<number, string> = {
  1: 'Message Header Error', 2: 'OPEN Message Error', 3: 'UPDATE Message Error', 4: 'Hold Timer Expired',
  5: 'Finite State Machine Error', 6: 'Cease', 7: 'ROUTE-REFRESH Message Error',
};

const SUBCODES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier', 4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time', 7: 'Unsupported Capability', 11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute', 8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error', 10: 'Invalid Network Field', 11: 'Malformed AS_PATH',
  },
  5: { 1: 'Unexpected Message in OpenSent', 2: 'Unexpected Message in OpenConfirm', 3: 'Unexpected Message in Established' },
  6: {
    1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured', 4: 'Administrative Reset',
    5: 'Connection Rejected', 6: 'Other Configuration Change', 7: 'Connection Collision Resolution', 8: 'Out of Resources',
    9: 'Hard Reset', 10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "Cease/Administrative Shutdown", "OPEN Message Error/Bad Peer AS", "code 9/1" for unknown ones. */
export function notificationName(code: number, subcode: number): string {
  const c = CODES[code];
  if (!c) return `code ${code}/${subcode}`;
  const s = SUBCODES[code]?.[subcode];
  if (s) return `${c}/${s}`;
  return subcode === 0 ? c : `${c}/subcode ${subcode}`;
}

/** Decode RFC 8203 data when it is well formed; null otherwise. */
export function parseShutdownData(data: Buffer): string | null {
  if (data.length < 1) return null;
  const n = data[0]!;
  if (n === 0 || 1 + n > data.length) return null;
  return data.subarray(1, 1 + n).toString('utf8');
}

/** The lastError text of a received NOTIFICATION, e.g. `received NOTIFICATION Cease/Administrative Shutdown: "maintenance"`. */
export function describeNotification(dir: 'received' | 'sent', code: number, subcode: number, data: Buffer, shutdownMessage?: string): string {
  if (code === 6 && subcode === 9 && data.length >= 2) {
    // RFC 8538 §3: say the NOTIFICATION the Hard Reset stands for, e.g. "Cease/Hard Reset (Cease/Administrative Shutdown: "bye")".
    const inner = describeNotification(dir, data[0]!, data[1]!, data.subarray(2), shutdownMessage).slice(`${dir} NOTIFICATION `.length);
    return `${dir} NOTIFICATION Cease/Hard Reset (${inner})`;
  }
  let text = `${dir} NOTIFICATION ${notificationName(code, subcode)}`;
  const msg = shutdownMessage ?? (code === 6 && (subcode === 2 || subcode === 4) ? parseShutdownData(data) : null);
  if (msg) text += `: ${JSON.stringify(msg)}`;
  else if (data.length > 0 && data.length <= 32) text += ` (data ${data.toString('hex')})`;
  return text;
}
