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
import { DEMO_ACCOUNTS, SESSION_COOKIE, totpCode } from './staff/index.js';

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

    const base = `http://127.0.0.1:${port}/api`;
    const health = await waitFor(`${base}/health`, 100_000);
    expect(health.status, output).toBe(200);
    expect((await fetch(`${base}/residents`)).status).toBe(401);

    // The demo clerk signs in as the README says: password, then the code of the authenticator app.
    const clerk = DEMO_ACCOUNTS.find((a) => a.loginName === 'clerk')!;
    const json = { 'content-type': 'application/json' };
    const cookieOf = (res: Response) =>
      res.headers
        .getSetCookie()
        .map((c) => /^__Host-jumin_session=([^;]*)/.exec(c)?.[1])
        .filter(Boolean)
        .at(-1);
    const first = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ loginName: clerk.loginName, password: clerk.password }),
    });
    expect(first.status).toBe(200);
    const second = await fetch(`${base}/auth/second-factor`, {
      method: 'POST',
      headers: { ...json, cookie: `${SESSION_COOKIE}=${cookieOf(first)}` },
      body: JSON.stringify({ code: totpCode(clerk.totpSecret, new Date()) }),
    });
    expect(second.status).toBe(200);
    const session = { cookie: `${SESSION_COOKIE}=${cookieOf(second)}` };

    const search = await fetch(`${base}/residents?pageSize=5`, { headers: session });
    expect(search.status).toBe(200);
    const body = (await search.json()) as { total: number; hits: Array<{ personNo: string }> };
    expect(body.total).toBeGreaterThan(300);
    const purpose = encodeURIComponent('証明書の交付');
    const inquiry = await fetch(`${base}/residents/${body.hits[0]!.personNo}?purpose=${purpose}`, {
      headers: session,
    });
    expect(inquiry.status).toBe(200);
    expect(inquiry.headers.get('cache-control')).toBe('no-store');
    if (!url) expect(fs.existsSync(path.join(dataDir, 'pglite'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'keys', 'audit-ed25519.pem'))).toBe(true);
  });
});
