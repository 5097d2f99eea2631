// KiteMetrics loads prom-client at the first scrape (issue 16: idle footprint). What happened
// before it was loaded must still be in the exposition: dataplane apply times (replayed into the
// histogram) and netlink errors (counted in a map); what happens afterwards goes straight in.
// A prom-client that failed to load is loaded again at the next try, with nothing lost meanwhile.
import { describe, expect, it } from 'vitest';
import { KiteMetrics } from '../../src/metrics/metrics.js';

describe('KiteMetrics before and after its first scrape', () => {
  it('keeps apply times and netlink errors from before the first scrape, and counts on afterwards', async () => {
    const m = new KiteMetrics({ defaultMetrics: false });
    m.dataplaneApplied(0.002, true);
    m.dataplaneApplied(0.3, false);
    m.netlinkError('route-add', 'EEXIST');
    m.netlinkError('route-add', 'EEXIST');
    m.netlinkError('route-del', 'ESRCH');
    const first = await m.expose();
    expect(first).toContain('kite_dataplane_apply_duration_seconds_bucket{le="0.0025",result="ok"} 1');
    expect(first).toContain('kite_dataplane_apply_duration_seconds_bucket{le="0.25",result="failed"} 0');
    expect(first).toContain('kite_dataplane_apply_duration_seconds_bucket{le="0.5",result="failed"} 1');
    expect(first).toContain('kite_dataplane_apply_duration_seconds_sum{result="failed"} 0.3');
    expect(first).toContain('kite_dataplane_apply_duration_seconds_count{result="ok"} 1');
    expect(first).toContain('kite_netlink_errors_total{op="route-add",code="EEXIST"} 2');
    expect(first).toContain('kite_netlink_errors_total{op="route-del",code="ESRCH"} 1');
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);

    m.dataplaneApplied(0.004, true);
    m.netlinkError('route-add', 'EEXIST');
    const second = await m.expose();
    expect(second).toContain('kite_dataplane_apply_duration_seconds_count{result="ok"} 2');
    expect(second).toContain('kite_dataplane_apply_duration_seconds_bucket{le="0.0025",result="ok"} 1');
    expect(second).toContain('kite_dataplane_apply_duration_seconds_bucket{le="0.005",result="ok"} 2');
    expect(second).toContain('kite_netlink_errors_total{op="route-add",code="EEXIST"} 3');
  });

  it('a scrape after one whose prom-client load failed loads it again, and the apply times from before are still replayed', async () => {
    let loads = 0;
    const m = new KiteMetrics({
      defaultMetrics: false,
      loadPromClient: async () => {
        if (++loads === 1) throw new Error('cannot load prom-client');
        return import('prom-client');
      },
    });
    m.dataplaneApplied(0.002, true);
    await expect(m.expose()).rejects.toThrow('cannot load prom-client');
    m.dataplaneApplied(0.003, true);
    const text = await m.expose();
    expect(text).toContain('kite_dataplane_apply_duration_seconds_count{result="ok"} 2');
    expect(loads).toBe(2);
  });

  it('a full replay buffer whose prom-client load fails is logged, not an unhandled rejection, and kept for the next try', async () => {
    let loads = 0;
    const warned: { obj: object; msg: string }[] = [];
    const m = new KiteMetrics({
      defaultMetrics: false,
      log: { warn: (obj, msg) => warned.push({ obj, msg }) },
      loadPromClient: async () => {
        if (++loads === 1) throw new Error('cannot load prom-client');
        return import('prom-client');
      },
    });
    for (let i = 0; i < 4096; i++) m.dataplaneApplied(0.001, true); // PENDING_LIMIT: the load is tried
    await new Promise((r) => setImmediate(r));
    expect(loads).toBe(1);
    expect(warned).toEqual([{ obj: { err: 'cannot load prom-client', pending: 4096 }, msg: 'metrics: cannot load prom-client' }]);
    m.dataplaneApplied(0.001, false);
    const text = await m.expose();
    expect(text).toContain('kite_dataplane_apply_duration_seconds_count{result="ok"} 4096');
    expect(text).toContain('kite_dataplane_apply_duration_seconds_count{result="failed"} 1');
    expect(loads).toBe(2);
  });

  it('concurrent first scrapes share one registry', async () => {
    const m = new KiteMetrics({ defaultMetrics: false });
    const [a, b] = await Promise.all([m.registry(), m.registry()]);
    expect(a).toBe(b);
  });
});
