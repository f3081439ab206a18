import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { migrateToLatest, type DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { registerPopulationCommands } from './population.cli.js';

let handle: DatabaseHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-populate-cli-'));

beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(env: Record<string, string>, ...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  registerPopulationCommands(program, {
    loadConfig: () =>
      loadConfig({
        JUMIN_DATA_DIR: dir,
        JUMIN_MASTER_KEY_FILE: path.join(dir, 'keys', 'master.keys'),
        JUMIN_AUDIT_KEY_FILE: path.join(dir, 'keys', 'audit-ed25519.pem'),
        ...env,
      }),
    openDatabase: () => Promise.resolve({ ...handle, close: () => Promise.resolve() }),
    migrateToLatest,
    print: (text) => lines.push(text),
  });
  await program.parseAsync(['node', 'jumin', 'populate', ...args]);
  return lines;
}

describe('jumin populate', () => {
  it('loads the requested number of invented residents and reports the rate', async () => {
    const lines = await run({ NODE_ENV: 'test' }, '--residents', '300', '--seed', '4', '--lg', '999016');
    expect(lines.at(-1)).toMatch(/^完了: 300 人、\d+ 世帯、履歴 \d+ 件、異動 \d+ 件（(insert|bulkCopy)）。/);
    const count = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM resident WHERE lg_code = '999016'`.execute(handle.db);
    expect(count.rows[0]?.n).toBe(300);
    const log = await sql<{ details: { job: string; residents: number } }>`
      SELECT details FROM access_log WHERE function = 'batch' ORDER BY seq DESC LIMIT 1`.execute(handle.db);
    expect(log.rows[0]?.details).toMatchObject({ job: 'populate', residents: 300 });
  });

  it('refuses bad numbers and production', async () => {
    await expect(run({ NODE_ENV: 'test' }, '--residents', '0')).rejects.toThrow('--residents');
    await expect(run({ NODE_ENV: 'test' }, '--lg', '12')).rejects.toThrow('団体コード');
    await expect(
      run(
        {
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
          JUMIN_BACKUP_OFFSITE_DIR: dir,
          JUMIN_SESSION_SECRET: 'x'.repeat(64),
        },
        '--residents',
        '10',
      ),
    ).rejects.toThrow('refused in production');
  });
});
