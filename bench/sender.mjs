// Benchmark BGP sender, independent of Kite's code: opens one eBGP session to a receiver, then
// writes a pre-encoded stream of UPDATEs carrying N IPv4 /24s (1.0.0.0/24 upward) with one shared
// attribute set (or --attr-sets N: N sets differing in MED, each on a contiguous block of prefixes),
// then End-of-RIB, and keeps the session alive. Prints JSON event lines on stdout.
//
//   node bench/sender.mjs --peer 198.18.200.1 --local 198.18.200.2 [--as 65001] [--count 1000000] [--attr-sets 1]

import net from 'node:net';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const PEER = args.peer;
const LOCAL = args.local;
const MY_AS = Number(args.as ?? 65001);
const COUNT = Number(args.count ?? 1_000_000);
const PORT = Number(args.port ?? 179);
const SETS = Math.max(1, Number(args['attr-sets'] ?? 1));
const HOLD = 90;
if (!PEER || !LOCAL) {
  process.stderr.write('usage: sender.mjs --peer IP --local IP [--as N] [--count N] [--port N]\n');
  process.exit(2);
}

const emit = (event, extra = {}) => process.stdout.write(JSON.stringify({ event, t: Date.now(), ...extra }) + '\n');

// --- a tiny byte builder (RFC 4271 §4) -------------------------------------------------------
const MARKER = Buffer.alloc(16, 0xff);
const TYPE = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4 };
const ipBytes = (ip) => ip.split('.').map(Number);

function message(type, body) {
  const len = 19 + body.length;
  return Buffer.concat([MARKER, Buffer.from([len >> 8, len & 0xff, type]), body]);
}

function openMessage() {
  // Capabilities (RFC 5492): MP-BGP IPv4 unicast (RFC 4760 §8), 4-octet AS (RFC 6793).
  const caps = Buffer.from([
    1, 4, 0, 1, 0, 1, // MP: AFI 1, reserved, SAFI 1
    65, 4, (MY_AS >>> 24) & 0xff, (MY_AS >>> 16) & 0xff, (MY_AS >>> 8) & 0xff, MY_AS & 0xff,
  ]);
  const optParam = Buffer.concat([Buffer.from([2, caps.length]), caps]); // param type 2: capabilities
  const as2 = MY_AS > 0xffff ? 23456 : MY_AS; // AS_TRANS (RFC 6793 §9)
  const body = Buffer.concat([
    Buffer.from([4, as2 >> 8, as2 & 0xff, HOLD >> 8, HOLD & 0xff, ...ipBytes(LOCAL), optParam.length]),
    optParam,
  ]);
  return message(TYPE.OPEN, body);
}

const KEEPALIVE = message(TYPE.KEEPALIVE, Buffer.alloc(0));
const END_OF_RIB = message(TYPE.UPDATE, Buffer.from([0, 0, 0, 0])); // RFC 4724 §2: empty UPDATE

/** Path attributes: ORIGIN IGP, AS_PATH [MY_AS] with 4-octet ASNs, NEXT_HOP LOCAL; MED `set` when there are several sets. */
function attributes(set) {
  return Buffer.from([
    0x40, 1, 1, 0, // ORIGIN: well-known transitive, IGP
    0x40, 2, 6, 2, 1, (MY_AS >>> 24) & 0xff, (MY_AS >>> 16) & 0xff, (MY_AS >>> 8) & 0xff, MY_AS & 0xff, // AS_SEQUENCE of 1
    0x40, 3, 4, ...ipBytes(LOCAL), // NEXT_HOP
    ...(SETS > 1 ? [0x80, 4, 4, (set >>> 24) & 0xff, (set >>> 16) & 0xff, (set >>> 8) & 0xff, set & 0xff] : []), // MULTI_EXIT_DISC
  ]);
}

/** All UPDATEs, each at most 4096 bytes (RFC 4271 §4.1), as one pre-encoded buffer. */
function encodeUpdates(count) {
  const perMsg = Math.floor((4096 - 19 - 2 - 2 - attributes(0).length) / 4); // /24 NLRI: 1 length byte + 3
  const msgs = Math.ceil(count / perMsg) + SETS;
  const out = Buffer.alloc(msgs * (19 + 4 + attributes(0).length) + count * 4);
  let off = 0;
  let i = 0;
  let sent = 0;
  while (i < count) {
    const set = Math.floor((i * SETS) / count); // prefixes [count*set/SETS, count*(set+1)/SETS) carry set `set`
    const attrs = attributes(set);
    const end = Math.ceil(((set + 1) * count) / SETS);
    const n = Math.min(perMsg, end - i);
    sent++;
    const len = 19 + 4 + attrs.length + n * 4;
    MARKER.copy(out, off);
    out.writeUInt16BE(len, off + 16);
    out[off + 18] = TYPE.UPDATE;
    out.writeUInt16BE(0, off + 19); // withdrawn routes length
    out.writeUInt16BE(attrs.length, off + 21);
    attrs.copy(out, off + 23);
    let p = off + 23 + attrs.length;
    for (let k = 0; k < n; k++, i++) {
      // Prefix i is (1.0.0.0 + i*256)/24: the three significant octets of (1<<16) + i.
      const v = (1 << 16) + i;
      out[p++] = 24;
      out[p++] = (v >>> 16) & 0xff;
      out[p++] = (v >>> 8) & 0xff;
      out[p++] = v & 0xff;
    }
    off += len;
  }
  return { buf: out.subarray(0, off), msgs: sent };
}

if (COUNT > 0xdf_ffff - (1 << 16)) throw new Error('count too large for the 1.0.0.0-223.255.255.0 /24 range');
const t0 = Date.now();
const updates = encodeUpdates(COUNT);
emit('encoded', { bytes: updates.buf.length, messages: updates.msgs, ms: Date.now() - t0 });

// --- session -----------------------------------------------------------------------------
const sock = net.connect({ host: PEER, port: PORT, localAddress: LOCAL });
sock.setNoDelay(true);
let rx = Buffer.alloc(0);
let gotOpen = false;
let established = false;
let keepaliveTimer;

sock.on('connect', () => {
  emit('connected');
  sock.write(openMessage());
});

sock.on('data', (chunk) => {
  rx = rx.length ? Buffer.concat([rx, chunk]) : chunk;
  while (rx.length >= 19) {
    const len = rx.readUInt16BE(16);
    if (len < 19 || len > 65535) fail(`bad length ${len} from receiver`);
    if (rx.length < len) break;
    const type = rx[18];
    const body = rx.subarray(19, len);
    rx = rx.subarray(len);
    onMessage(type, body);
  }
});

function onMessage(type, body) {
  if (type === TYPE.OPEN) {
    gotOpen = true;
    const hold = body.readUInt16BE(3);
    const negotiated = Math.min(hold, HOLD);
    // Does the receiver speak 4-octet AS? Our AS_PATH is encoded with 4-octet ASNs.
    const optLen = body[9];
    const opt = body.subarray(10, 10 + optLen);
    let as4 = false;
    for (let o = 0; o + 2 <= opt.length; o += 2 + opt[o + 1]) {
      if (opt[o] !== 2) continue;
      const caps = opt.subarray(o + 2, o + 2 + opt[o + 1]);
      for (let c = 0; c + 2 <= caps.length; c += 2 + caps[c + 1]) if (caps[c] === 65) as4 = true;
    }
    if (!as4) fail('receiver did not offer the 4-octet AS capability');
    sock.write(KEEPALIVE);
    if (negotiated > 0) keepaliveTimer = setInterval(() => sock.write(KEEPALIVE), Math.max(1000, (negotiated * 1000) / 3));
    emit('open', { hold: negotiated });
  } else if (type === TYPE.KEEPALIVE) {
    if (gotOpen && !established) {
      established = true;
      emit('established');
      sock.write(updates.buf, () => {
        sock.write(END_OF_RIB, () => emit('sent', { bytes: updates.buf.length + END_OF_RIB.length }));
      });
    }
  } else if (type === TYPE.NOTIFICATION) {
    fail(`NOTIFICATION from receiver: code ${body[0]} subcode ${body[1]} data ${body.subarray(2).toString('hex')}`);
  }
  // UPDATEs from the receiver are read and ignored.
}

function fail(msg) {
  emit('error', { message: msg });
  process.exit(1);
}

sock.on('error', (e) => fail(`socket: ${e.message}`));
sock.on('close', () => {
  emit('closed');
  clearInterval(keepaliveTimer);
  process.exit(established ? 0 : 1);
});
process.on('SIGTERM', () => {
  // Cease / Administrative Shutdown (RFC 4486) so the receiver logs a clean end.
  sock.end(message(TYPE.NOTIFICATION, Buffer.from([6, 2])), () => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
