/**
 * Backup and restore throughput on PostgreSQL, and whether memory stays flat as rows grow (the dump and the
 * restore stream: no table is held in memory). Fills a synthetic table with N rows of ~120 bytes in a fresh
 * database, backs it up, restores it into a second fresh database (which recomputes every checksum), and
 * reports times, file size and the process's peak RSS.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/jumin npm run bench:backup [-- N]   (default N = 1000000)
 *
 * Creates and drops the databases `<name>_bench_src` and `<name>_bench_dst` on that server.
 * Not part of `npm test`: it is a script, not a *.test.ts file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { migrateToLatest, openPostgres } from '../src/db/index.js';
import { createBackup, restoreBackup } from '../src/lifecycle/index.js';
import { backupContext } from '../src/lifecycle/testing.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const url = process.env['DATABASE_URL'];
if (!url) throw new Error('set DATABASE_URL to a PostgreSQL server where databases may be created');
const server = new URL(url);
const base = decodeURIComponent(server.pathname.slice(1)) || 'postgres';
const names = { src: `${base}_bench_src`, dst: `${base}_bench_dst` };
const urlOf = (name: string) => Object.assign(new URL(url), { pathname: `/${name}` }).toString();

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-bench-backup-'));
for (const n of Object.values(names)) {
  await admin(`DROP DATABASE IF EXISTS "${n}"`);
  await admin(`CREATE DATABASE "${n}"`);
}
const source = openPostgres(urlOf(names.src));
const target = openPostgres(urlOf(names.dst));
try {
  await migrateToLatest(source.db);
  await source.db.insertInto('municipality').values({ lg_code: '999016', name: 'bench' }).execute();
  const fill = new pg.Client({ connectionString: urlOf(names.src) });
  await fill.connect();
  await fill.query(
    `INSERT INTO number_counter SELECT '999016', 'kind-' || g || repeat('x', 100), g FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await fill.end();
  const baseline = process.memoryUsage().rss;
  peak = baseline;

  const ctx = backupContext();
  let start = performance.now();
  const made = await createBackup(source, dir, ctx);
  const backupMs = performance.now() - start;
  start = performance.now();
  await restoreBackup(made.file, target.db, ctx, { log: false });
  const restoreMs = performance.now() - start;
  const mb = (n: number) => `${Math.round(n / 1e6)} MB`;
  console.log(
    `rows ${made.rows}: backup ${Math.round(backupMs)} ms, restore (with checksums) ${Math.round(restoreMs)} ms, ` +
      `file ${mb(made.bytes)}, RSS before ${mb(baseline)}, peak ${mb(peak)}`,
  );
} finally {
  clearInterval(sampler);
  await source.close();
  await target.close();
  for (const n of Object.values(names)) await admin(`DROP DATABASE IF EXISTS "${n}"`);
  fs.rmSync(dir, { recursive: true, force: true });
}
