// The BGP instance's channels, one per configured peer (by its key: address, and port when not 179): applies the peer set's changes (added,
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
  private readonly byKey = new Map<string, Channel>();
  private readonly deps: ChannelDeps;

  constructor(o: ChannelsOptions) {
    const { onEndOfRib, ...rest } = o;
    this.deps = { ...rest, events: { endOfRib: () => onEndOfRib() } };
  }

  get size(): number { return this.byKey.size; }

  /** Every channel has had its first End-of-RIB (true with no peers at all). */
  get allEndOfRib(): boolean {
    for (const ch of this.byKey.values()) if (!ch.endOfRibSeen) return false;
    return true;
  }

  add(key: string, peer: PeerIntent): void {
    this.byKey.set(key, new Channel(key, peer, this.deps));
  }

  change(key: string, peer: PeerIntent): void {
    const ch = this.byKey.get(key);
    if (ch === undefined) this.add(key, peer);
    else ch.reconfigure(peer);
  }

  remove(key: string): void {
    const ch = this.byKey.get(key);
    if (ch === undefined) return;
    ch.close();
    this.byKey.delete(key);
  }

  status(id: string): ChannelStatus | undefined { return this.get(id)?.status(); }

  /**
   * The channel of a configured peer: by its key, or by any spelling of its address (the first
   * peer at that address when several share it on different ports).
   */
  get(id: string): Channel | undefined {
    const c = canonicalAddress(id);
    return this.byKey.get(id) ?? this.byKey.get(c) ?? [...this.byKey.values()].find((ch) => canonicalAddress(ch.config.address) === c);
  }

  /** Kite stops: every channel's timers end. */
  stop(): void { for (const ch of this.byKey.values()) ch.stop(); }

  // ---- the speaker's RouteConsumer ------------------------------------------------------

  onEstablished(peer: PeerHandle, info: EstablishedInfo): void { this.of(peer)?.established(peer, info); }
  onUpdate(peer: PeerHandle, msg: UpdateMessage): void { this.of(peer)?.update(msg); }
  onRouteRefresh(peer: PeerHandle, _msg: RouteRefreshMessage): void { this.deps.exporter.refresh(peer.key); }

  onDown(peer: PeerHandle, reason: string, how: DownInfo): void {
    const id = peer.key;
    const ch = this.byKey.get(id);
    if (ch === undefined) { this.deps.exporter.leave(id); return; }
    ch.down(reason, how);
  }

  private of(peer: PeerHandle): Channel | undefined { return this.byKey.get(peer.key); }
}
