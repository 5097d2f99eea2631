// Route-reflector clients, simulated: N iBGP clients in one Node process for bench/reflect.mjs
// --sim (issue 16), so the benchmark reaches 1,000 and 2,000 clients. Shares no code with Kite:
// its own byte builder and parser. Each client listens (passive, the reflector dials), announces
// one /26 on "go", and checks exactly what it receives: every other client's /26, never its own,
// nothing else, no withdrawal. Reports JSON lines on stdout; reads "go" on stdin.
//
//   node bench/rr-sim.mjs CLIENTS AS RR_IP   (run in the clients' namespace; addresses from clientIp)

import net from 'node:net';
import { createInterface } from 'node:readline';

const N = Number(process.argv[2]);
const AS = Number(process.argv[3]);
const RR_IP = process.argv[4];
export const clientIp = (i) => `198.19.${1 + (i >> 8)}.${i & 255}`;
const routeKey = (k) => (((10 << 24) | ((16 + (k >> 10)) << 16) | (((k >> 2) & 255) << 8) | ((k & 3) * 64)) >>> 0);
const ipNum = (s) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0) >>> 0;

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const MARKER = Buffer.alloc(16, 0xff);

function message(type, body) {
  const h = Buffer.alloc(19);
  MARKER.copy(h);
  h.writeUInt16BE(19 + body.length, 16);
  h[18] = type;
  return Buffer.concat([h, body]);
}

function open(id) {
  const caps = Buffer.from([
    2, 6, 1, 4, 0, 1, 0, 1, // MP IPv4 unicast
    2, 6, 65, 4, (AS >>> 24) & 255, (AS >>> 16) & 255, (AS >>> 8) & 255, AS & 255, // 4-octet AS
  ]);
  const b = Buffer.alloc(10);
  b[0] = 4;
  b.writeUInt16BE(AS > 0xffff ? 23456 : AS, 1);
  b.writeUInt16BE(240, 3);
  b.writeUInt32BE(id, 5);
  b[9] = caps.length;
  return message(1, Buffer.concat([b, caps]));
}

const KEEPALIVE = message(4, Buffer.alloc(0));

/** UPDATE: ORIGIN IGP, empty AS_PATH, NEXT_HOP the client, LOCAL_PREF 100, one /26. */
function announce(i) {
  const nh = ipNum(clientIp(i));
  const attrs = Buffer.from([0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, nh >>> 24, (nh >>> 16) & 255, (nh >>> 8) & 255, nh & 255, 0x40, 5, 4, 0, 0, 0, 100]);
  const k = routeKey(i);
  const nlri = Buffer.from([26, k >>> 24, (k >>> 16) & 255, (k >>> 8) & 255, k & 255]);
  const b = Buffer.alloc(4 + attrs.length);
  b.writeUInt16BE(0, 0);
  b.writeUInt16BE(attrs.length, 2);
  attrs.copy(b, 4);
  return message(2, Buffer.concat([b, nlri]));
}

const byKey = new Map();
for (let i = 0; i < N; i++) byKey.set(routeKey(i), i);
const byAddr = new Map();
for (let i = 0; i < N; i++) byAddr.set(clientIp(i), i);

const clients = Array.from({ length: N }, (_, i) => ({
  i, sock: null, up: false, held: new Uint8Array(N), count: 0, own: 0, unexpected: 0, withdrawn: 0, badOriginator: 0, done: false,
}));
let upCount = 0, doneCount = 0, drops = 0, notifications = 0, go = 0, announced = false;
let totalHeld = 0, ownTotal = 0;

function onMessage(c, type, body) {
  if (type === 1) { c.sock.write(KEEPALIVE); return; }
  if (type === 4) {
    if (!c.up) { c.up = true; upCount++; if (announced) c.sock.write(announce(c.i)); }
    return;
  }
  if (type === 3) { notifications++; return; }
  if (type !== 2) return;
  const wl = body.readUInt16BE(0);
  if (wl > 0) c.withdrawn++;
  const al = body.readUInt16BE(2 + wl);
  let p = 4 + wl;
  const end = p + al;
  let originator = -1;
  while (p < end) {
    const flags = body[p], code = body[p + 1];
    const ext = flags & 0x10;
    const len = ext ? body.readUInt16BE(p + 2) : body[p + 2];
    const v = p + (ext ? 4 : 3);
    if (code === 9) originator = body.readUInt32BE(v);
    p = v + len;
  }
  for (let q = end; q < body.length;) {
    const plen = body[q];
    const n = (plen + 7) >> 3;
    let k = 0;
    for (let b = 0; b < 4; b++) k = k * 256 + (b < n ? body[q + 1 + b] : 0);
    q += 1 + n;
    const j = plen === 26 ? byKey.get(k >>> 0) : undefined;
    if (j === undefined) { c.unexpected++; continue; }
    if (j === c.i) { c.own++; ownTotal++; continue; }
    if (originator !== -1 && originator !== ipNum(clientIp(j))) c.badOriginator++;
    if (!c.held[j]) { c.held[j] = 1; c.count++; totalHeld++; }
  }
  if (!c.done && c.count === N - 1) {
    c.done = true;
    doneCount++;
    if (doneCount === N) report(true);
  }
}

function report(final) {
  const bad = clients.reduce((a, c) => a + c.unexpected + c.withdrawn + c.badOriginator, 0);
  out({ final, up: upCount, done: doneCount, held: totalHeld, ms: go ? Math.round(performance.now() - go) : 0, drops, notifications, ownReceived: ownTotal, problems: bad });
}

const server = net.createServer({ noDelay: true }, (sock) => {
  const i = byAddr.get(sock.localAddress?.replace(/^::ffff:/, ''));
  if (i === undefined) { sock.destroy(); return; }
  const c = clients[i];
  if (c.sock) { sock.destroy(); return; }
  c.sock = sock;
  sock.write(open(ipNum(clientIp(i))));
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    let p = 0;
    while (p + 19 <= buf.length) {
      const len = buf.readUInt16BE(p + 16);
      if (p + len > buf.length) break;
      onMessage(c, buf[p + 18], buf.subarray(p + 19, p + len));
      p += len;
    }
    buf = buf.subarray(p);
  });
  const gone = () => {
    if (c.sock !== sock) return;
    c.sock = null;
    if (c.up) { c.up = false; upCount--; drops++; }
  };
  sock.on('close', gone);
  sock.on('error', gone);
});
server.listen({ port: 179, host: '0.0.0.0', backlog: 8192 }, () => out({ listening: true }));
setInterval(() => { if (upCount < N || !announced) out({ up: upCount }); else report(doneCount === N); }, 250).unref();
setInterval(() => { for (const c of clients) if (c.up) c.sock.write(KEEPALIVE); }, 60_000).unref();

createInterface({ input: process.stdin }).on('line', (l) => {
  if (l.trim() === 'go') {
    go = performance.now();
    announced = true;
    for (const c of clients) if (c.up) c.sock.write(announce(c.i));
  }
  if (l.trim() === 'report') report(doneCount === N);
  if (l.trim() === 'exit') process.exit(0);
});
