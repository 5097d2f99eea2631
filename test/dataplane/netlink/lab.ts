// Namespace lab for the netlink tests: checks prerequisites (root, iproute2, netns, the built
// addon), creates one namespace with a veth pair, and always removes it. Without a prerequisite
// the tests skip with the reason printed — or fail when CI=true, so CI can never pass by skipping.

import { execFileSync } from 'node:child_process';
import { loadNative } from '../../../src/native/addon.js';

export function sh(args: string[], input?: string): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 512 * 1024 * 1024 });
}

/** Why the kernel tests cannot run here, or undefined when they can. */
export function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not running as root (network namespaces need CAP_SYS_ADMIN)';
  try {
    sh(['ip', '-V']);
  } catch {
    return 'iproute2 `ip` not found';
  }
  try {
    loadNative();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  const probe = `knprobe${process.pid}`;
  try {
    sh(['ip', 'netns', 'add', probe]);
    sh(['ip', 'netns', 'del', probe]);
  } catch (e) {
    return `cannot create a network namespace: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}

export const isCI = process.env.CI === 'true';

/** Create namespace `name` with lo up and a veth pair va/vb (both inside it). */
export function createLab(name: string): void {
  removeLab(name);
  sh(['ip', 'netns', 'add', name]);
  sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  sh(['ip', '-n', name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
}

/**
 * Namespace `name` as a node with one pod: lo, eth0 (198.18.0.1/24; with `ipv6` also fd00:18::1/64,
 * no DAD) and the pod's host side `podIf`, each a veth whose peer (eth0p, podp) stays inside, all up.
 */
export function createNodeLab(name: string, podIf: string, o: { ipv6?: boolean } = {}): void {
  removeLab(name);
  sh(['ip', 'netns', 'add', name]);
  const ip = (...a: string[]) => sh(['ip', '-n', name, ...a]);
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
  ip('link', 'add', podIf, 'type', 'veth', 'peer', 'name', 'podp');
  for (const l of ['eth0', 'eth0p', podIf, 'podp']) ip('link', 'set', l, 'up');
  ip('addr', 'add', '198.18.0.1/24', 'dev', 'eth0');
  if (o.ipv6) ip('-6', 'addr', 'add', 'fd00:18::1/64', 'dev', 'eth0', 'nodad');
}

export function removeLab(name: string): void {
  try {
    sh(['ip', 'netns', 'del', name]);
  } catch {
    // not there
  }
}

export function ipJson<T>(ns: string, args: string[]): T {
  return JSON.parse(sh(['ip', '-n', ns, '-j', ...args]) || '[]') as T;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
