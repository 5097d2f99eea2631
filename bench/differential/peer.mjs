// A minimal BGP speaker for the differential check, on the check's own bytes (bytes.mjs): a test
// session that sends whatever it is given and records how the daemon answers (NOTIFICATION, close),
// and an observer session that keeps the routes the daemon re-advertises.
import net from 'node:net';
import * as B from './bytes.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Uncompressed text of a prefix, the observer's key (IPv4 as is, IPv6 through fmt6). */
export function norm(p) {
  if (!p.includes(':')) return p;
  const [a, l] = p.split('/');
  return `${B.fmt6(B.ip6(a))}/${l}`;
}

export class Peer {
  /**
   * local: our address (bound), remote: the daemon's, open: our OPEN message (bytes),
   * observe: keep a RIB of what the daemon sends.
   */
  constructor({ local, remote, port = 179, open, observe = false }) {
    this.local = local;
    this.remote = remote;
    this.port = port;
    this.openMsg = open;
    this.observe = observe;
    this.state = 'connecting';
    this.notification = null; // what the daemon sent us
    this.dutOpen = null;
    this.rib = new Map();
    this.waiters = new Set();
    this.framer = new B.Framer();
    this.keepaliveTimer = null;
    this.error = '';
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    this.upOrDone = new Promise((resolve) => { this.resolveUp = resolve; });
  }

  start() {
    this.sock = net.connect({ host: this.remote, port: this.port, localAddress: this.local });
    this.sock.setNoDelay(true);
    this.sock.on('connect', () => { this.state = 'opensent'; this.sock.write(this.openMsg); });
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('error', (e) => { this.error = e.code ?? e.message; });
    this.sock.on('close', () => this.finish());
    return this;
  }

  finish() {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.keepaliveTimer);
    this.resolveUp('closed');
    this.resolveDone();
    for (const w of this.waiters) w();
  }

  onData(d) {
    let msgs;
    try {
      msgs = this.framer.push(d);
    } catch (e) {
      this.error = e.message;
      this.sock.destroy();
      return;
    }
    for (const m of msgs) {
      if (m.type === B.T.OPEN) {
        this.dutOpen = B.readOpen(m.body);
        this.state = 'openconfirm';
        this.write(B.keepalive());
      } else if (m.type === B.T.KEEPALIVE) {
        if (this.state === 'openconfirm') this.established();
      } else if (m.type === B.T.NOTIFICATION) {
        this.notification = { code: m.body[0], sub: m.body[1] };
        this.sock.destroy();
      } else if (m.type === B.T.UPDATE && this.observe && this.state === 'up') {
        const u = B.readUpdate(m.body);
        for (const p of u.withdrawn) this.rib.delete(norm(p));
        for (const p of u.announced) this.rib.set(norm(p), u.route);
        for (const w of this.waiters) w();
      }
    }
  }

  established() {
    this.state = 'up';
    const ours = this.openMsg.length >= 24 ? this.openMsg.readUInt16BE(22) : 0;
    const hold = Math.min(ours, this.dutOpen?.hold ?? 0);
    if (hold > 0) this.keepaliveTimer = setInterval(() => this.write(B.keepalive()), Math.max(1, Math.floor(hold / 3)) * 1000);
    this.resolveUp('up');
  }

  write(buf) {
    if (this.state !== 'closed' && !this.sock.destroyed) this.sock.write(buf);
  }

  /** Resolves with 'up' or 'closed', or 'timeout' after ms. */
  waitUp(ms) {
    return Promise.race([this.upOrDone, sleep(ms).then(() => 'timeout')]);
  }

  /** Resolves true when pred() holds (checked on each UPDATE and on close), false after ms. */
  waitFor(pred, ms) {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = () => { if (pred() || this.state === 'closed') { this.waiters.delete(w); clearTimeout(t); resolve(pred()); } };
      const t = setTimeout(() => { this.waiters.delete(w); resolve(false); }, ms);
      this.waiters.add(w);
    });
  }

  /** Cease / Administrative Shutdown, then close. */
  async close() {
    if (this.state === 'closed') return;
    this.write(B.notification(6, 2));
    this.sock.end();
    await Promise.race([this.done, sleep(1000)]);
    this.sock.destroy();
  }
}
