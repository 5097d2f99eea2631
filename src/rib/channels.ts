// The BGP instance's channels, one per configured peer: applies the peer set's changes (added,
// changed, removed), routes the speaker's session events to the right channel, and says when
// every peer has sent its first End-of-RIB (the end of our graceful restart, and the moment the
// dataplane may prune).
import type { DownInfo, EstablishedInfo } from '../bgp/session.js';
import { canonicalAddress } from '../bgp/address.js';
import type { PeerHandle, RouteConsumer } from '../bgp/speaker.js';
import type { RouteRefreshMessage, UpdateMessage } from '../bgp/wire/types.js';
import type { PeerIntent } from '../config/types.js';
import { Channel, type ChannelDeps, type ChannelStatus } from './channel.js';

export interface ChannelsOptions extends Omit<ChannelDeps, 'events'> {
  /** A channel saw its first End-of-RIB (see allEndOfRib). */
  onEndOfRib(): void;
}

export class Channels implements RouteConsumer {
  private readonly byAddress = new Map<string, Channel>();
  private readonly deps: ChannelDeps;

  constructor(o: ChannelsOptions) {
    const { onEndOfRib, ...rest } = o;
    this.deps = { ...rest, events: { endOfRib: () => onEndOfRib() } };
  }

  get size(): number { return this.byAddress.size; }

  /** Every channel has had its first End-of-RIB (true with no peers at all). */
  get allEndOfRib(): boolean {
    for (const ch of this.byAddress.values()) if (!ch.endOfRibSeen) return false;
    return true;
  }

  add(address: string, peer: PeerIntent): void {
    this.byAddress.set(address, new Channel(address, peer, this.deps));
  }

  change(address: string, peer: PeerIntent): void {
    const ch = this.byAddress.get(address);
    if (ch === undefined) this.add(address, peer);
    else ch.reconfigure(peer);
  }

  remove(address: string): void {
    const ch = this.byAddress.get(address);
    if (ch === undefined) return;
    ch.close();
    this.byAddress.delete(address);
  }

  status(address: string): ChannelStatus | undefined { return this.byAddress.get(canonicalAddress(address))?.status(); }

  /** The channel of a configured peer (by any spelling of its address). */
  get(address: string): Channel | undefined { return this.byAddress.get(canonicalAddress(address)); }

  /** Kite stops: every channel's timers end. */
  stop(): void { for (const ch of this.byAddress.values()) ch.stop(); }

  // ---- the speaker's RouteConsumer ------------------------------------------------------

  onEstablished(peer: PeerHandle, info: EstablishedInfo): void { this.of(peer)?.established(peer, info); }
  onUpdate(peer: PeerHandle, msg: UpdateMessage): void { this.of(peer)?.update(msg); }
  onRouteRefresh(peer: PeerHandle, _msg: RouteRefreshMessage): void { this.deps.exporter.refresh(canonicalAddress(peer.address)); }

  onDown(peer: PeerHandle, reason: string, how: DownInfo): void {
    const id = canonicalAddress(peer.address);
    const ch = this.byAddress.get(id);
    if (ch === undefined) { this.deps.exporter.leave(id); return; }
    ch.down(reason, how);
  }

  private of(peer: PeerHandle): Channel | undefined { return this.byAddress.get(canonicalAddress(peer.address)); }
}
