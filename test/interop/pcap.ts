// Packet capture for the interop tests: dumpcap (tshark's capture engine) inside a lab namespace writing a pcap, and an
// analysis with Wireshark's BGP dissector (an implementation independent of Kite and of the
// peers) that reports malformed packets, expert warnings/errors and the message types decoded.

import { join } from 'node:path';
import { type Lab, type LabNode, type NsProcess, must, run, waitFor } from './netns.js';

export class Capture {
  readonly file: string;
  private proc: NsProcess | undefined;

  constructor(private readonly lab: Lab, private readonly node: LabNode, name = 'bgp') {
    this.file = join(lab.dir, `${name}-${node.name}.pcap`);
  }

  /** Start capturing TCP port 179 on the node's eth0; resolves once dumpcap says it is capturing. */
  async start(): Promise<void> {
    this.proc = this.lab.spawn(this.node, 'dumpcap', ['-i', this.node.ifname, '-f', 'tcp port 179', '-w', this.file], {
      logName: `tshark-${this.node.name}`,
    });
    await waitFor('dumpcap to start capturing', async () => {
      if (this.proc && !this.proc.running) throw new Error(`dumpcap exited: ${this.proc.log()}`);
      return /Capturing on/.test(this.proc?.log() ?? '') ? true : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200 });
  }

  /** SIGINT makes dumpcap write out what it has and exit. */
  async stop(): Promise<void> {
    if (!this.proc) return;
    // libpcap's TPACKET_V3 ring hands blocks to dumpcap only when full or after its timeout, and
    // a stopped dumpcap drops the open block: give the last packets (the NOTIFICATION) time to land.
    await new Promise((r) => setTimeout(r, 2000));
    this.proc.signalLeader('SIGINT');
    const t = setTimeout(() => this.proc?.signal('SIGKILL'), 10_000);
    await this.proc.wait();
    clearTimeout(t);
  }
}

export interface PcapReport {
  /** Frames whose verbose decode contains "Malformed" or an exception. */
  malformed: string[];
  /** Lines from `-z expert` in the Error or Warning groups that concern BGP. */
  expertProblems: string[];
  /** BGP message type codes (1 OPEN, 2 UPDATE, 3 NOTIFICATION, 4 KEEPALIVE) per source address. */
  typesBySource: Map<string, Set<number>>;
  /** Number of BGP messages decoded in total. */
  messages: number;
  verbose: string;
}

const BGP = ['-d', 'tcp.port==179,bgp'];

export async function analyzePcap(file: string): Promise<PcapReport> {
  const verbose = await must('tshark', ['-n', '-r', file, ...BGP, '-V'], { timeoutMs: 60_000 });
  const malformed: string[] = [];
  let frame = '';
  for (const line of verbose.split('\n')) {
    if (line.startsWith('Frame ')) frame = line;
    if (/Malformed|Dissector bug|\[Exception/i.test(line)) malformed.push(`${frame}: ${line.trim()}`);
  }

  const expert = await run('tshark', ['-n', '-r', file, ...BGP, '-q', '-z', 'expert'], { timeoutMs: 60_000 });
  const expertProblems: string[] = [];
  let group = '';
  for (const line of expert.stdout.split('\n')) {
    const g = /^(Errors|Warnings|Notes|Chats)\s+\(\d+\)/.exec(line.trim());
    if (g) {
      group = g[1]!;
      continue;
    }
    if ((group === 'Errors' || group === 'Warnings') && /\bBGP\b/.test(line)) expertProblems.push(`${group}: ${line.trim()}`);
  }

  const fields = await must('tshark', ['-n', '-r', file, ...BGP, '-Y', 'bgp', '-T', 'fields', '-E', 'separator=/t', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'bgp.type'], {
    timeoutMs: 60_000,
  });
  const typesBySource = new Map<string, Set<number>>();
  let messages = 0;
  for (const line of fields.split('\n')) {
    if (!line.trim()) continue;
    const [v4, v6, types] = line.split('\t');
    const src = v4 || v6 || '?';
    const set = typesBySource.get(src) ?? new Set<number>();
    for (const t of (types ?? '').split(',').filter(Boolean)) {
      set.add(Number(t));
      messages++;
    }
    typesBySource.set(src, set);
  }
  return { malformed, expertProblems, typesBySource, messages, verbose };
}

export const BGP_TYPE = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4 } as const;
