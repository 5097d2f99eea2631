// Kite's log lines (src/logger.ts): JSON with level names and ISO-8601 UTC times, or pino-pretty's
// readable lines on a terminal or when asked; Calico's logSeverityScreen values as pino levels.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, levelOfSeverity, resolveFormat } from '../src/logger.js';

function capture(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream: PassThrough & { isTTY?: boolean } = new PassThrough();
  stream.isTTY = isTTY;
  let out = '';
  stream.on('data', (c: Buffer) => { out += c.toString(); });
  return { stream, text: () => out };
}

const tick = (): Promise<void> => new Promise((ok) => setImmediate(ok));

describe('log format', () => {
  it('JSON: one object a line, the level by name, the time in ISO-8601 UTC', async () => {
    const c = capture(false);
    const log = createLogger({ level: 'info', format: 'auto', base: { node: 'n1' }, destination: c.stream });
    log.info({ peer: '198.18.0.2', from: 'OpenConfirm', to: 'Established', reason: 'KEEPALIVE received' }, 'bgp session state change');
    log.debug('not shown at info');
    await tick();
    const lines = c.text().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec).toMatchObject({ level: 'info', node: 'n1', peer: '198.18.0.2', to: 'Established', reason: 'KEEPALIVE received', msg: 'bgp session state change' });
    expect(rec['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(new Date(String(rec['time'])).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('pretty: a readable line with the level name and the fields, on a terminal or when asked', async () => {
    for (const [isTTY, format] of [[true, 'auto'], [false, 'pretty']] as const) {
      const c = capture(isTTY);
      const log = createLogger({ level: 'info', format, base: { node: 'n1' }, destination: c.stream });
      log.warn({ peer: '198.18.0.2', reason: 'hold timer expired' }, 'bgp session state change');
      await tick();
      const line = c.text().replace(/\x1b\[[0-9;]*m/g, ''); // colours, when on a terminal
      expect(line).not.toContain('{"level"');
      expect(line).toMatch(/\bWARN\b/);
      expect(line).toContain('bgp session state change');
      expect(line).toContain('hold timer expired');
      expect(line.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('auto is JSON unless the destination is a terminal', () => {
    expect(resolveFormat('auto', { isTTY: false })).toBe('json');
    expect(resolveFormat('auto', {})).toBe('json');
    expect(resolveFormat('auto', { isTTY: true })).toBe('pretty');
    expect(resolveFormat('json', { isTTY: true })).toBe('json');
  });

  it("maps Calico's logSeverityScreen to pino levels", () => {
    expect(['Debug', 'Info', 'Warning', 'Error', 'Fatal'].map(levelOfSeverity)).toEqual(['debug', 'info', 'warn', 'error', 'fatal']);
  });
});
