import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { migrateToLatest, type DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import { actor, moveInOf, person, registryServices, testClock } from '../registry/testing.js';
import { registerLinkageCommands } from './linkage.cli.js';

let handle: DatabaseHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-export-cli-'));
const clock = testClock();

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, '999016', '架空市');
  const { changes } = registryServices(handle, clock);
  await changes.moveIn(actor, moveInOf([person(), person({ relationship: '子' })]));
}, 60_000);
afterAll(async () => {
  await handle.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  registerLinkageCommands(program, {
    loadConfig: () =>
      loadConfig({ NODE_ENV: 'test', JUMIN_AUDIT_KEY_FILE: path.join(dir, 'keys', 'audit-ed25519.pem') }),
    openDatabase: () => Promise.resolve({ ...handle, close: () => Promise.resolve() }),
    migrateToLatest,
    print: (text) => lines.push(text),
    clock,
  });
  await program.parseAsync(['node', 'jumin', ...args]);
  return lines.join('\n');
}

describe('jumin export full-set', () => {
  it('writes the file, its .sha256, and prints counts without names', async () => {
    const file = path.join(dir, 'out', 'full-set.ndjson.gz');
    fs.mkdirSync(path.dirname(file));
    // --nice 0: the test worker keeps its priority.
    const output = await run(
      'export',
      'full-set',
      '--out',
      file,
      '--nice',
      '0',
      '--max-rows-per-second',
      '0',
    );
    expect(output).toContain('2 名');
    expect(output).not.toContain('山田');
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual([
      'full-set.ndjson.gz',
      'full-set.ndjson.gz.sha256',
    ]);
    const lines = gunzipSync(fs.readFileSync(file)).toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
  });

  it('refuses --with-my-number without an operator, and bad options', async () => {
    const file = path.join(dir, 'x.gz');
    await expect(run('export', 'full-set', '--out', file, '--with-my-number')).rejects.toThrow('--operator');
    await expect(run('export', 'full-set', '--out', file, '--lg', '12')).rejects.toThrow('--lg');
    await expect(run('export', 'full-set', '--out', file, '--nice', '40')).rejects.toThrow('--nice');
    expect(fs.existsSync(file)).toBe(false);
  });
});
