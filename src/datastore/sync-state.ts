// The sync bookkeeping the Kubernetes and etcd datastores share: the status they report (logged
// and handed on only when it changes), the promise start() returns (kept until the first
// 'in-sync', broken by stop()), and the rule that a snapshot equal to the last one is not sent.
import type { Logger } from 'pino';
import type { DatastoreHandlers, SyncStatus } from './datastore.js';
import type { Resources } from './resources.js';

export interface SyncStateOptions {
  /** The datastore in log lines and errors: "etcd datastore". */
  what: string;
  log: Logger;
  /** The consumer, once started. */
  handlers(): DatastoreHandlers | undefined;
}

export class SyncState {
  private current: SyncStatus | undefined;
  private lastSnapshot: string | undefined;
  private first: { resolve(): void; reject(e: Error): void } | undefined;

  constructor(private readonly o: SyncStateOptions) {}

  get status(): SyncStatus | undefined {
    return this.current;
  }

  set(s: SyncStatus): void {
    if (this.current === s) return;
    this.current = s;
    this.o.log.info({ status: s }, `${this.o.what} sync status`);
    this.o.handlers()?.onStatus(s);
  }

  /**
   * The view that was complete is not any more (a relist began, a snapshot is held back): an
   * 'in-sync' datastore reports 'resyncing'; 'waiting' and 'resyncing' stay as they are.
   */
  resyncing(): void {
    if (this.current === 'in-sync') this.set('resyncing');
  }

  /** Resolves at the first 'in-sync' publish() reaches; rejects when stopped() comes first. */
  firstSync(): Promise<void> {
    return new Promise<void>((resolve, reject) => { this.first = { resolve, reject }; });
  }

  stopped(): void {
    this.first?.reject(new Error(`${this.o.what} stopped before it synced`));
    this.first = undefined;
  }

  /**
   * A complete view: handed to the consumer when its text differs from the last one's (the
   * datastores sort and strip revisions, so a relist that found nothing new sends nothing), a
   * consumer's throw reported to `onError` as a rejected snapshot; then 'in-sync'.
   */
  publish(rs: Resources, onError: (e: Error) => void): void {
    const text = JSON.stringify(rs);
    if (text !== this.lastSnapshot) {
      this.lastSnapshot = text;
      try {
        this.o.handlers()?.onSnapshot(rs);
      } catch (e) {
        onError(new Error(`snapshot rejected: ${(e as Error).message}`));
      }
    }
    this.set('in-sync');
    this.first?.resolve();
    this.first = undefined;
  }
}
