// Holds the datastore's snapshots while calico-node's start-up decides this node's identity
// (addresses, AS, router ID, default pools: startUp), then passes every snapshot on carrying it.
// Without start-up (in-process daemons whose cluster file says everything) snapshots pass at once.
import type { Logger } from 'pino';
import type { Datastore } from '../datastore/datastore.js';
import type { Resources } from '../datastore/resources.js';
import { overlay, startUp, type Started } from './index.js';
import type { StartupEnv } from './identity.js';

export class StartupGate {
  private started: Started | null = null;
  private pending: Resources | null = null;

  constructor(private readonly o: {
    env: StartupEnv | undefined; nodeName: string; log: Logger;
    /** Where snapshots go on (the calc pipeline). */
    push: (r: Resources) => void;
    /** Told the router ID start-up chose, before the first snapshot goes on. */
    routerId: (id: string) => void;
  }) {}

  /** The datastore's snapshot handler. */
  onSnapshot(resources: Resources): void {
    if (this.o.env !== undefined && this.started === null) this.pending = resources;
    else this.o.push(this.started === null ? resources : overlay(resources, this.started, this.o.nodeName));
  }

  /** Runs start-up on the first snapshot, once the datastore has delivered it (start resolved). */
  async run(datastore: Datastore): Promise<void> {
    if (this.o.env === undefined || this.pending === null) return;
    this.started = await startUp({ env: this.o.env, nodeName: this.o.nodeName, resources: this.pending, datastore, log: this.o.log });
    if (this.started.identity.routerId !== undefined) this.o.routerId(this.started.identity.routerId);
    const pending = this.pending;
    this.pending = null;
    this.o.push(overlay(pending, this.started, this.o.nodeName));
  }
}
