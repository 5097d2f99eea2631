// Runs the differential check's cases against one daemon: sessions from a pool of our addresses
// (each configured on the daemon as an eBGP or iBGP neighbour), an observer session that sees what
// the daemon re-advertises, and the reaction of each case as one comparable string (classify()).
import * as B from './bytes.mjs';
import { DUT_AS, EBGP_AS, baseUpdate, baseUpdate6, classOf, cleanup, prefixesOf, sentinel, sentinel6 } from './cases.mjs';
import { Peer, norm, sleep } from './peer.mjs';

export const OBSERVER_AS = 65002;

/** The observer's view of one prefix: absent, the base route, or the new one with what the case probes. */
export function probeState(route, probe) {
  if (!route) return 'absent';
  const last = route.path.at(-1)?.asns.at(-1);
  if (route.origin === 2 && last === 64999) return 'base';
  if (!probe) return 'new';
  if (probe === 'path') return `new path=${route.path.map((s) => `${s.type}:${s.asns.join(',')}`).join(';')}`;
  if (probe.startsWith('unk')) {
    const u = route.unknown.find((x) => x.code === Number(probe.slice(3)));
    return u ? `new +attr${u.code}(flags 0x${u.flags.toString(16)})` : `new -attr${probe.slice(3)}`;
  }
  const has = { comm: route.comm.length > 0, ext: route.ext.length > 0, large: route.large.length > 0, agg: route.agg, atomic: route.atomic }[probe];
  return `new ${has ? '+' : '-'}${probe}`;
}

/** Reaction string → its kind: reset, close, crash, stalled, or the probe states without details. */
export function kindOf(reaction) {
  if (reaction.startsWith('reset')) return 'reset';
  return reaction.replace(/ (path=\S+|[+-]\w+(\(flags 0x[0-9a-f]+\))?)/g, '');
}

/**
 * A daemon under test: `dut` (IPv4), `dut6`, `ebgp` and `ibgp` (our addresses it peers with, as
 * EBGP_AS and DUT_AS), `observer` (our address it peers with as OBSERVER_AS), v6(addr) (our IPv6
 * partner of an address), `other` (an unused address on the subnet), alive() (false once it crashed).
 */
export class Runner {
  constructor(dut, { settleMs = 60, caseTimeoutMs = 4000, quietMs = 80, log = () => {} } = {}) {
    this.dut = dut;
    this.settleMs = settleMs;
    this.caseTimeoutMs = caseTimeoutMs;
    this.quietMs = quietMs;
    this.log = log;
    this.cooling = new Map(); // address → time it may be used again
    this.inUse = new Set();
    this.failures = new Map();
    this.rr = { true: 0, false: 0 };
  }

  openFor(local, ibgp, as4 = true) {
    const as = ibgp ? DUT_AS : EBGP_AS;
    return B.open({ as, hold: 180, id: local, params: B.paramCaps(...B.defaultCaps(as, as4)) });
  }

  /** The observer sessions: over IPv4 and, when the daemon has `observer6`, over IPv6 (Calico's sessions carry one family each). */
  async startObserver() {
    const start = async (local, remote) => {
      const o = new Peer({ local, remote, port: this.dut.port, open: B.open({ as: OBSERVER_AS, hold: 180, id: this.dut.observer, params: B.paramCaps(...B.defaultCaps(OBSERVER_AS)) }), observe: true }).start();
      const r = await o.waitUp(20_000);
      if (r !== 'up') throw new Error(`observer session to ${remote} did not come up (${r}; ${o.notification ? `NOTIFICATION ${o.notification.code}/${o.notification.sub}` : o.error})`);
      return o;
    };
    this.observer = await start(this.dut.observer, this.dut.dut);
    this.observer6 = this.dut.observer6 ? await start(this.dut.observer6, this.dut.dut6) : this.observer;
  }

  /** The observer's route for a prefix (IPv6 ones from the IPv6 observer). */
  seenRoute(prefix) {
    return (prefix.includes(':') ? this.observer6 : this.observer).rib.get(norm(prefix));
  }

  /** Cases whose routes are IPv6 run over IPv6 sessions, where the daemon has them. */
  overV6(kase) {
    return kase.base === 'P6' && kase.kind === 'update' && this.dut.observer6 !== undefined;
  }

  /** A free address of the pool, waiting while all are cooling down after a reset. */
  async address(ibgp) {
    const pool = ibgp ? this.dut.ibgp : this.dut.ebgp;
    for (;;) {
      const now = Date.now();
      for (let i = 0; i < pool.length; i++) {
        const a = pool[(this.rr[ibgp] + i) % pool.length];
        if (this.inUse.has(a) || (this.cooling.get(a) ?? 0) > now) continue;
        this.rr[ibgp] = (this.rr[ibgp] + i + 1) % pool.length;
        this.inUse.add(a);
        return a;
      }
      await sleep(100);
    }
  }

  release(addr, coolMs) {
    this.inUse.delete(addr);
    if (coolMs) this.cooling.set(addr, Date.now() + coolMs);
  }

  /** A connection with `open`; retried on other addresses while the daemon refuses before answering. */
  async connect(ibgp, openOf, v6 = false) {
    for (let attempt = 0; attempt < 12; attempt++) {
      const local = await this.address(ibgp);
      const p = new Peer({ local: v6 ? this.dut.v6(local) : local, remote: v6 ? this.dut.dut6 : this.dut.dut, port: this.dut.port, open: openOf(local) }).start();
      p.local4 = local;
      const r = await p.waitUp(6000);
      if (r === 'up' || p.dutOpen || p.notification) {
        p.release = (cool) => this.release(local, cool);
        return { p, r };
      }
      // Refused before a word (the daemon's idle hold after an earlier reset): another address.
      p.sock.destroy();
      const f = (this.failures.get(local) ?? 1000) * 2;
      this.failures.set(local, Math.min(f, 60_000));
      this.release(local, f);
    }
    throw new Error(`cannot open a session to ${this.dut.dut}`);
  }

  ctxFor(kase, local) {
    const v = { local, local6: this.dut.v6(local), dut: this.dut.dut, dut6: this.dut.dut6, other: this.dut.other, ibgp: kase.ibgp, as4: kase.as4, peerAs: kase.ibgp ? DUT_AS : EBGP_AS, id: kase.id, ...prefixesOf(kase.id) };
    return v;
  }

  probeList(kase, c) {
    return kase.probes.map((p) => (p === 'P' ? c.P : p === 'P6' ? c.P6 : p === 'P32' ? c.P.replace('.0/24', '.1/32') : p.slice(2)));
  }

  /** Wait for the sentinel, then read the probes: the reaction of a case whose session stayed up. */
  async observe(kase, c, p) {
    const o = this.observer, o6 = this.observer6;
    const seen = () => o.rib.has(norm(c.S)) || o6.rib.has(norm(c.S6));
    const ok = await Promise.race([o.waitFor(seen, this.caseTimeoutMs), ...(o6 !== o ? [o6.waitFor(seen, this.caseTimeoutMs)] : []), p.done.then(() => 'closed')]);
    if (ok === 'closed' || p.state === 'closed') return null;
    if (!ok) return this.dut.alive() ? 'stalled' : 'crash';
    await sleep(this.settleMs);
    if (p.state === 'closed') return null;
    return `kept ${this.probeList(kase, c).map((x) => `${x.includes(':') ? 'P6' : x === c.P ? 'P' : x}=${probeState(this.seenRoute(x), kase.probe)}`).join(' ')}`;
  }

  ended(p) {
    if (!this.dut.alive()) return 'crash';
    return p.notification ? `reset ${p.notification.code}/${p.notification.sub}` : 'close';
  }

  /** One case on `lane` (which keeps an Established session between cases that leave it up). */
  async run(kase, lane, quietMs = this.quietMs) {
    if (!this.dut.alive()) return { reaction: 'crash', hex: '' };
    if (this.observer.state === 'closed' || this.observer6.state === 'closed') { await this.observer.close(); await this.observer6.close(); await this.startObserver(); }
    if (kase.kind === 'open') return this.runOpen(kase, lane);
    const v6 = this.overV6(kase);
    if (lane.p && (lane.p.state !== 'up' || lane.ibgp !== kase.ibgp || lane.as4 !== kase.as4 || lane.v6 !== v6)) { await lane.p.close(); lane.p.release(0); lane.p = null; }
    if (!lane.p) {
      const { p, r } = await this.connect(kase.ibgp, (local) => this.openFor(local, kase.ibgp, kase.as4), v6);
      if (r !== 'up') { p.release(3000); return { reaction: `setup failed: ${this.ended(p)}`, hex: '' }; }
      Object.assign(lane, { p, ibgp: kase.ibgp, as4: kase.as4, v6 });
    }
    const p = lane.p;
    const c = this.ctxFor(kase, p.local4);
    const msgs = kase.build(c);
    if (kase.base === 'P') p.write(baseUpdate(c));
    if (kase.base === 'P6') p.write(baseUpdate6(c));
    for (const m of msgs) p.write(m);
    // Nothing more until the daemon has had time to answer: a daemon that resets with our next
    // bytes unread in its socket makes its kernel send a TCP RST, which loses the NOTIFICATION.
    await Promise.race([p.done, sleep(quietMs)]);
    let reaction = null;
    if (p.state !== 'closed') {
      p.write(v6 ? sentinel6(c) : sentinel(c));
      reaction = await this.observe(kase, c, p);
    }
    if (reaction === null || reaction === 'crash' || reaction === 'stalled') {
      if (reaction === null) { await Promise.race([p.done, sleep(1000)]); reaction = this.ended(p); }
      await p.close();
      p.release(2500);
      lane.p = null;
    } else {
      p.write(cleanup(c, this.probeList(kase, c), v6 ? 'v6' : 'v4'));
    }
    return { reaction, cls: c.cls ?? kase.cls, hex: msgs.map((m) => m.toString('hex')).join(' ') };
  }

  async runOpen(kase, lane) {
    if (lane.p) { await lane.p.close(); lane.p.release(0); lane.p = null; }
    let msgs = [];
    const { p, r } = await this.connect(kase.ibgp, (local) => { msgs = kase.build(this.ctxFor(kase, local)); return msgs[0]; });
    const c = this.ctxFor(kase, p.local4);
    let reaction;
    if (r === 'up') {
      const upd = B.update({ attrs: B.cat(B.origin(0), B.asPath(c.ibgp ? [B.seq(64998)] : [B.seq(c.peerAs, 64998)], c.as4), B.nextHop(c.local), ...(c.ibgp ? [B.localPref(100)] : [])), nlri: B.nlri(c.P) });
      p.write(upd);
      p.write(sentinel(c));
      p.write(sentinel6(c));
      reaction = await this.observe({ ...kase, probes: ['P'] }, c, p);
      if (reaction === 'stalled') reaction = 'up, takes no routes';
      else if (reaction?.startsWith('kept')) reaction = reaction.replace('kept', 'up');
      if (reaction !== null && p.state !== 'closed') p.write(cleanup(c, [], 'v4'));
    } else if (r === 'timeout') {
      reaction = this.dut.alive() ? 'hang' : 'crash';
    }
    if (!reaction) { await Promise.race([p.done, sleep(1000)]); reaction = this.ended(p); }
    await p.close();
    p.release(2500);
    return { reaction, cls: kase.cls, hex: msgs.map((m) => m.toString('hex')).join(' ') };
  }

  /** Every case over `lanes` parallel sessions; results in case order. */
  async runAll(cases, lanes = 3, onResult = () => {}) {
    await this.startObserver();
    const order = [...cases].sort((a, b) => (a.kind === 'open') - (b.kind === 'open') || this.overV6(a) - this.overV6(b) || a.ibgp - b.ibgp || a.as4 - b.as4 || a.id - b.id);
    const results = new Map();
    let next = 0;
    const work = async () => {
      const lane = { p: null };
      while (next < order.length && !this.crashed) {
        const k = order[next++];
        let res;
        try {
          res = await this.run(k, lane);
          // A close without NOTIFICATION may be a NOTIFICATION lost to a TCP RST (the daemon was
          // slower than quietMs): once more, waiting longer before the sentinel.
          if (res.reaction === 'close') res = await this.run(k, lane, 1000);
        } catch (e) {
          // A daemon that is exiting refuses connections a moment before it is gone.
          await sleep(1000);
          res = { reaction: this.dut.alive() ? `harness error: ${e.message}` : 'crash', cls: k.cls, hex: '' };
        }
        if (res.reaction === 'crash') this.crashed = true;
        else if (this.crashed) return; // in flight when another lane's case crashed the daemon: run again after the restart
        res.id = k.id;
        res.cls ??= classOf(k, this.ctxFor(k, this.dut.ebgp[0]));
        results.set(k.id, res);
        onResult(res);
        if (res.reaction === 'crash') return;
      }
      if (lane.p) { await lane.p.close(); lane.p.release(0); }
    };
    await Promise.all(Array.from({ length: lanes }, work));
    await this.observer.close().catch(() => {});
    await this.observer6.close().catch(() => {});
    return cases.map((k) => results.get(k.id)).filter(Boolean);
  }
}
