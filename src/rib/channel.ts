// A channel binds one BGP session to the RIB (BIRD's term): it imports the peer's UPDATEs
// into its Adj-RIB-In, and exports the node's own routes to the peer (eBGP: own AS
// prepended, next hop self; iBGP: empty AS path, LOCAL_PREF 100, next hop self).
import type { Logger } from 'pino';
import { forEachIPv4, forEachPrefix } from '../bgp/wire/nlri.js';
import type { Interner } from '../bgp/wire/intern.js';
import { UpdateWriter } from '../bgp/wire/index.js';
import type { Prefix } from '../bgp/wire/prefix.js';
import {
  ErrorAction, IPV4_UNICAST, IPV6_UNICAST, Origin, SegType,
  type CodecContext, type FamilyKey, type NlriView, type PathAttrs, type UpdateMessage,
} from '../bgp/wire/types.js';
import type { Rib } from './rib.js';

/** What the channel needs from the session: a place to queue bulk UPDATEs. */
export interface ChannelSink {
  send(buf: Buffer): boolean;
}

export interface ChannelOptions {
  localAs: number;
  peerAs: number;
  /** Our address toward this peer for IPv4 next hop self (the node IP). */
  nextHop4: string;
  /** Our IPv6 address for IPv6 next hop self; without one, IPv6 routes are not exported. */
  nextHop6?: string;
  log: Logger;
}

export interface ChannelStatus {
  prefixesReceived: number;
  prefixesAccepted: number;
  prefixesAdvertised: number;
}

export class Channel {
  private peerIndex = -1;
  private writer: UpdateWriter | null = null;
  private sink: ChannelSink | null = null;
  private families = new Set<FamilyKey>();
  /** Prefixes currently advertised to the peer, per family, by prefix text. */
  private readonly advertised = new Map<string, Prefix>();
  private readonly ibgp: boolean;
  private treatAsWithdrawn = 0;

  constructor(
    private readonly rib: Rib,
    private readonly interner: Interner,
    private readonly opts: ChannelOptions,
  ) {
    this.ibgp = opts.localAs === opts.peerAs;
  }

  get isUp(): boolean { return this.peerIndex >= 0; }

  status(): ChannelStatus {
    const n = this.peerIndex >= 0 ? this.rib.peerPrefixCount(this.peerIndex) : 0;
    return { prefixesReceived: n, prefixesAccepted: n, prefixesAdvertised: this.advertised.size };
  }

  /** The session reached Established: register the peer and send our table and End-of-RIB. */
  up(ctx: CodecContext, families: readonly FamilyKey[], remoteAddress: string, remoteBgpId: number,
    sink: ChannelSink, local: readonly Prefix[]): void {
    if (this.peerIndex >= 0) this.down();
    this.peerIndex = this.rib.addPeer({ address: remoteAddress, bgpId: remoteBgpId, ibgp: this.ibgp });
    this.writer = new UpdateWriter(ctx);
    this.sink = sink;
    this.families = new Set(families);
    this.advertised.clear();
    this.announce(local);
    for (const f of this.families) sink.send(this.writer.endOfRib(f));
  }

  /** The session left Established: forget what the peer sent (RFC 4271 §9.1.3 via §8). */
  down(): void {
    if (this.peerIndex < 0) return;
    this.rib.removePeer(this.peerIndex);
    this.peerIndex = -1;
    this.writer = null;
    this.sink = null;
    this.advertised.clear();
  }

  /** Local routes changed while up: send the difference. */
  announce(prefixes: readonly Prefix[]): void {
    if (!this.writer || !this.sink) return;
    for (const family of [IPV4_UNICAST, IPV6_UNICAST]) {
      if (!this.families.has(family)) continue;
      const batch = prefixes.filter((p) => p.family === family);
      if (batch.length === 0) continue;
      const attrs = this.exportAttrs(family);
      if (!attrs) {
        this.opts.log.warn({ peer: this.rib.peer(this.peerIndex)?.address, family },
          'not exporting IPv6 routes: this node has no ipv6Address for next hop self');
        continue;
      }
      const sink = this.sink;
      this.writer.announce(family, attrs, batch, (m) => { sink.send(m); });
      for (const p of batch) this.advertised.set(key(p), p);
    }
  }

  withdraw(prefixes: readonly Prefix[]): void {
    if (!this.writer || !this.sink) return;
    for (const family of [IPV4_UNICAST, IPV6_UNICAST]) {
      const batch = prefixes.filter((p) => p.family === family && this.advertised.has(key(p)));
      if (batch.length === 0) continue;
      const sink = this.sink;
      this.writer.withdraw(family, batch, (m) => { sink.send(m); });
      for (const p of batch) this.advertised.delete(key(p));
    }
  }

  private exportAttrs(family: FamilyKey): PathAttrs | null {
    const nextHop = family === IPV4_UNICAST ? this.opts.nextHop4 : this.opts.nextHop6;
    if (!nextHop) return null;
    return this.interner.internAttrs({
      origin: Origin.IGP,
      asPath: this.ibgp ? [] : [{ type: SegType.AS_SEQUENCE, asns: [this.opts.localAs] }],
      nextHop,
      localPref: this.ibgp ? 100 : undefined,
      atomicAggregate: false,
      unknown: [],
    });
  }

  /** Imports one UPDATE into the peer's Adj-RIB-In, honouring the RFC 7606 action. */
  update(msg: UpdateMessage): void {
    const peer = this.peerIndex;
    if (peer < 0) return;
    const rib = this.rib;
    if (msg.withdrawn) forEachIPv4(msg.withdrawn, (a, l, id) => rib.withdraw4(peer, a, l, id));
    if (msg.mpUnreach) this.withdrawView(msg.mpUnreach);
    if (msg.action >= ErrorAction.TreatAsWithdraw) {
      // RFC 7606 §2: the NLRI of a malformed UPDATE are handled as withdrawn.
      if (msg.nlri) this.withdrawView(msg.nlri);
      if (msg.mpReach) this.withdrawView(msg.mpReach);
      this.treatAsWithdrawn++;
      this.opts.log.warn({ peer: rib.peer(peer)?.address, errors: msg.errors.map((e) => e.message) },
        'malformed UPDATE treated as withdraw (RFC 7606)');
      return;
    }
    const attrs = msg.attrs;
    if (!attrs) return;
    if (msg.nlri) forEachIPv4(msg.nlri, (a, l, id) => rib.announce4(peer, a, l, id, attrs.id));
    if (msg.mpReach) {
      const fam = msg.mpReach.family;
      forEachPrefix(msg.mpReach, (b, l, id) => rib.announce(peer, fam, b, l, id, attrs.id));
    }
  }

  private withdrawView(v: NlriView): void {
    const peer = this.peerIndex;
    if (v.family === IPV4_UNICAST) forEachIPv4(v, (a, l, id) => this.rib.withdraw4(peer, a, l, id));
    else forEachPrefix(v, (b, l, id) => this.rib.withdraw(peer, v.family, b, l, id));
  }
}

const key = (p: Prefix): string => `${p.family}/${Buffer.from(p.bytes).toString('hex')}/${p.len}`;
