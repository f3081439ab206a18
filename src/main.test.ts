/**
 * The README's first command: `jumin start` migrates, seeds the demo data into an empty database and serves.
 * Runs the real command in a child process on a fresh embedded database folder (or, with DATABASE_URL, on a
 * schema of its own on PostgreSQL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-start-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const schema = `cli_${randomBytes(5).toString('hex')}`;
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGTERM');
  fs.rmSync(dataDir, { recursive: true, force: true });
  const url = process.env['DATABASE_URL'];
  if (url) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
});

/** A connection string whose sessions use their own schema, so the command cannot touch other data. */
async function databaseUrl(): Promise<string | undefined> {
  const url = process.env['DATABASE_URL'];
  if (!url) return undefined;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema},public`);
  return u.toString();
}

async function waitFor(url: string, ms: number): Promise<Response> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fetch(url);
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe('jumin start', () => {
  it('migrates, seeds the demo city and serves the API', { timeout: 120_000 }, async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      JUMIN_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    };
    const url = await databaseUrl();
    if (url) env['DATABASE_URL'] = url;
    else delete env['DATABASE_URL'];
    let output = '';
    child = spawn(process.execPath, [path.join(root, 'bin/jumin.js'), 'start'], { cwd: root, env });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

    const health = await waitFor(`http://127.0.0.1:${port}/api/health`, 100_000);
    expect(health.status, output).toBe(200);
    const search = await fetch(`http://127.0.0.1:${port}/api/residents?pageSize=5`);
    const body = (await search.json()) as {
      total: number;
      hits: Array<{ personNo: string; reading: string }>;
    };
    expect(body.total).toBeGreaterThan(300);
    const inquiry = await fetch(`http://127.0.0.1:${port}/api/residents/${body.hits[0]!.personNo}`);
    expect(inquiry.status).toBe(200);
    expect(inquiry.headers.get('cache-control')).toBe('no-store');
    if (!url) expect(fs.existsSync(path.join(dataDir, 'pglite'))).toBe(true);
  });
});
