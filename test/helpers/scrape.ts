// Reads a running Kite's /metrics and parses it with a Prometheus text-format parser (not a
// regular expression), so a malformed exposition fails the test instead of matching by luck.
import parsePrometheusTextFormat, { type MetricFamily, type Sample } from 'parse-prometheus-text-format';

export class Scrape {
  constructor(readonly families: MetricFamily[], readonly text: string) {}

  family(name: string): MetricFamily {
    const f = this.families.find((x) => x.name === name);
    if (f === undefined) throw new Error(`metric ${name} not exported; have ${this.families.map((x) => x.name).join(', ')}`);
    return f;
  }

  /** The samples of a counter or gauge whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.family(name).metrics.filter((m): m is Sample => 'value' in m
      && Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  }

  /** The one sample's value (the sum when several match); 0 when none. */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((n, m) => n + Number(m.value), 0);
  }
}

/** Parses exposition text already fetched (e.g. inside a network namespace). */
export function scrapeText(text: string): Scrape {
  return new Scrape(parsePrometheusTextFormat(text), text);
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain; version=0.0.4')) throw new Error(`${url}: content-type ${type}, not the Prometheus text format`);
  const text = await res.text();
  return new Scrape(parsePrometheusTextFormat(text), text);
}
