// Tests for SyncState (src/datastore/sync-state.ts), the sync bookkeeping the etcd and Kubernetes
// datastores share: a status change is logged and handed on once, start()'s promise resolves at the
// first 'in-sync' and is broken by stop(), and a snapshot equal to the last one offered is not sent
// again (datastore.ts: onSnapshot is "never twice with equal content"; Calico's syncer likewise
// reports wait-for-datastore → resync → in-sync).
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DatastoreHandlers, SyncStatus } from '../../src/datastore/datastore.js';
import { emptyResources, type Resources } from '../../src/datastore/resources.js';
import { SyncState } from '../../src/datastore/sync-state.js';

/** A SyncState whose consumer and log record what reached them, in one list, in order. */
function harness(what = 'etcd datastore', opts: { consumer?: boolean; reject?: string } = {}) {
  const events: string[] = [];
  const logged: { msg: string; status: string }[] = [];
  const errors: Error[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => { logged.push(JSON.parse(line) as { msg: string; status: string }); } });
  const consumer: DatastoreHandlers = {
    onSnapshot: (rs) => {
      events.push(`snapshot ${rs.warnings.join(',')}`);
      if (opts.reject !== undefined) throw new Error(opts.reject);
    },
    onStatus: (s) => events.push(`status ${s}`),
    onError: (e) => events.push(`consumer error ${e.message}`),
  };
  const sync = new SyncState({ what, log, handlers: () => (opts.consumer === false ? undefined : consumer) });
  const publish = (rs: Resources): void => sync.publish(rs, (e) => { errors.push(e); events.push(`error ${e.message}`); });
  return { sync, events, logged, errors, publish };
}

/** A snapshot told apart by its warnings (any field would do: publish compares the whole text). */
const snap = (...warnings: string[]): Resources => ({ ...emptyResources(), warnings });
const settled = async (p: Promise<void>): Promise<string> => {
  let state = 'pending';
  p.then(() => { state = 'resolved'; }, (e: Error) => { state = `rejected: ${e.message}`; });
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('SyncState status', () => {
  it('no status until one is set; each change logged "<what> sync status" and handed on once', () => {
    const { sync, events, logged } = harness('Kubernetes datastore');
    expect(sync.status).toBeUndefined();
    sync.set('waiting');
    sync.set('waiting');
    sync.set('resyncing');
    sync.set('resyncing');
    sync.set('waiting');
    expect(sync.status).toBe('waiting');
    expect(events).toEqual(['status waiting', 'status resyncing', 'status waiting']);
    expect(logged.map((l) => [l.msg, l.status])).toEqual([
      ['Kubernetes datastore sync status', 'waiting'],
      ['Kubernetes datastore sync status', 'resyncing'],
      ['Kubernetes datastore sync status', 'waiting'],
    ]);
  });

  it('with no consumer yet the status is still kept and logged', () => {
    const { sync, logged } = harness('etcd datastore', { consumer: false });
    sync.set('waiting');
    expect(sync.status).toBe('waiting');
    expect(logged).toHaveLength(1);
  });

  it('resyncing(): an in-sync view that is no longer complete becomes resyncing; waiting (never synced) and resyncing stay', () => {
    const { sync, events } = harness();
    sync.resyncing();
    expect(sync.status).toBeUndefined();
    sync.set('waiting');
    sync.resyncing();
    expect(sync.status).toBe('waiting');
    sync.publish(snap('a'), () => undefined);
    sync.resyncing();
    sync.resyncing();
    expect(sync.status).toBe('resyncing');
    expect(events).toEqual(['status waiting', 'snapshot a', 'status in-sync', 'status resyncing']);
  });
});

describe('SyncState publish', () => {
  it('the first snapshot reaches the consumer before the first in-sync, and start()\'s promise resolves after both', async () => {
    const { sync, events, publish } = harness();
    sync.set('waiting');
    const first = sync.firstSync();
    sync.set('resyncing');
    expect(await settled(first)).toBe('pending');
    publish(snap('a'));
    expect(events).toEqual(['status waiting', 'status resyncing', 'snapshot a', 'status in-sync']);
    expect(sync.status).toBe('in-sync');
    expect(await settled(first)).toBe('resolved');
  });

  it('a snapshot with the same text as the last one is not sent again; a relist still ends in-sync', () => {
    const { sync, events, publish } = harness();
    publish(snap('a'));
    sync.set('resyncing'); // a watch broke; the relist found nothing new
    publish(snap('a')); // equal content, another object
    publish(snap('b'));
    publish(snap('b'));
    publish(snap('a')); // back to an earlier view: differs from the last, so sent
    expect(events).toEqual(['snapshot a', 'status in-sync', 'status resyncing', 'status in-sync', 'snapshot b', 'snapshot a']);
  });

  it('a consumer that throws: reported as "snapshot rejected: …", still in-sync, the first sync still resolves, and the same view is not offered again', async () => {
    const { sync, events, errors, publish } = harness('etcd datastore', { reject: 'pool overlaps' });
    const first = sync.firstSync();
    publish(snap('a'));
    expect(errors.map((e) => e.message)).toEqual(['snapshot rejected: pool overlaps']);
    expect(sync.status).toBe('in-sync');
    expect(await settled(first)).toBe('resolved');
    publish(snap('a'));
    expect(events).toEqual(['snapshot a', 'error snapshot rejected: pool overlaps', 'status in-sync']);
  });
});

describe('SyncState first sync', () => {
  it('stop() before the first in-sync breaks start()\'s promise, naming the datastore', async () => {
    const { sync } = harness('Kubernetes datastore');
    sync.set('waiting');
    const first = sync.firstSync();
    sync.stopped();
    expect(await settled(first)).toBe('rejected: Kubernetes datastore stopped before it synced');
  });

  it('stop() after the first in-sync, or twice, breaks nothing; a late publish after a stop throws nothing', async () => {
    const { sync, publish } = harness();
    const first = sync.firstSync();
    publish(snap('a'));
    sync.stopped();
    sync.stopped();
    expect(await settled(first)).toBe('resolved');

    const h2 = harness();
    const p2 = h2.sync.firstSync();
    h2.sync.stopped();
    expect(() => h2.publish(snap('a'))).not.toThrow();
    expect(await settled(p2)).toBe('rejected: etcd datastore stopped before it synced');
  });

  it('later in-syncs do not touch a settled promise; a new firstSync() waits for the next publish', async () => {
    const { sync, publish } = harness();
    const first = sync.firstSync();
    publish(snap('a'));
    publish(snap('b'));
    expect(await settled(first)).toBe('resolved');
    const again = sync.firstSync();
    expect(await settled(again)).toBe('pending');
    publish(snap('b')); // equal view: not sent, but in-sync is reached
    expect(await settled(again)).toBe('resolved');
  });
});

describe('SyncState properties', () => {
  it('for any run of set() and publish(): statuses handed on are the changes, snapshots sent are those differing from the last offered', () => {
    const step = fc.oneof(
      fc.record({ set: fc.constantFrom<SyncStatus>('waiting', 'resyncing', 'in-sync') }),
      fc.record({ publish: fc.array(fc.constantFrom('x', 'y'), { maxLength: 2 }) }),
    );
    fc.assert(fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
      const { sync, events, logged, publish } = harness();
      const want: string[] = [];
      let status: SyncStatus | undefined;
      let last: string | undefined;
      const to = (s: SyncStatus): void => { if (s !== status) { status = s; want.push(`status ${s}`); } };
      for (const s of steps) {
        if ('set' in s) {
          sync.set(s.set);
          to(s.set);
        } else {
          publish(snap(...s.publish));
          const key = s.publish.join(',');
          if (key !== last) { last = key; want.push(`snapshot ${key}`); }
          to('in-sync');
        }
      }
      expect(events).toEqual(want);
      expect(logged.map((l) => `status ${l.status}`)).toEqual(want.filter((w) => w.startsWith('status')));
      expect(sync.status).toBe(status);
    }), { numRuns: 300 });
  });
});
