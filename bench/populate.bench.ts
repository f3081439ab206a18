/**
 * Loads a synthetic population (src/registry/population.ts) and reports the load rate (residents/s).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/jumin npm run bench:populate -- --residents 100000 --seed 1
 *   npm run bench:populate -- --residents 5000          (no DATABASE_URL: an in-memory embedded database)
 *
 * On PostgreSQL it creates (and at the end drops, unless --keep) the database `<name>_bench_pop`, migrates it
 * and loads into it. Keys: an ephemeral local KEK (the data cannot be read after the run; it is a benchmark).
 * Not part of `npm test`: it is a script, not a *.test.ts file.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { migrateToLatest, openEmbedded, openPostgres, type DatabaseHandle } from '../src/db/index.js';
import { Keyring, LocalKeyProvider } from '../src/keys/index.js';
import {
  DEFAULT_POPULATION_RESIDENTS,
  DEFAULT_POPULATION_SEED,
  ResidentService,
  loadPopulation,
} from '../src/registry/index.js';
import { PERMISSIONS, systemClock, type Actor } from '../src/shared/index.js';

const { values } = parseArgs({
  options: {
    residents: { type: 'string', default: String(DEFAULT_POPULATION_RESIDENTS) },
    seed: { type: 'string', default: String(DEFAULT_POPULATION_SEED) },
    batch: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const residents = Number(values.residents);
const seed = Number(values.seed);
const url = process.env['DATABASE_URL'];
const LG = '999016';

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

let handle: DatabaseHandle;
let benchDb: string | undefined;
if (url) {
  const base = decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
  benchDb = `${base}_bench_pop`;
  await admin(`DROP DATABASE IF EXISTS "${benchDb}"`);
  await admin(`CREATE DATABASE "${benchDb}"`);
  handle = openPostgres(Object.assign(new URL(url), { pathname: `/${benchDb}` }).toString());
} else {
  handle = await openEmbedded(undefined);
}
try {
  await migrateToLatest(handle.db);
  const config = loadConfig({ NODE_ENV: 'test' });
  const clock = systemClock;
  const audit = { clock, monitoring: config.monitoring, criteriaKey: randomBytes(32) };
  const keyring = new Keyring(handle.db, LocalKeyProvider.ephemeral());
  const actor: Actor = {
    lgCode: LG,
    staffId: 'bench',
    terminalId: 'BENCH',
    permissions: new Set(PERMISSIONS),
  };

  const start = performance.now();
  let lastReport = start;
  const summary = await loadPopulation({
    db: handle.db,
    connect: handle.connect,
    keyring,
    audit,
    actor,
    seed,
    residents,
    municipalityName: '架空市',
    ...(values.batch ? { batchHouseholds: Number(values.batch) } : {}),
    onProgress: ({ residents: done, phase }) => {
      const now = performance.now();
      if (phase !== 'rows') {
        console.log(`  ${done} residents written in ${((now - start) / 1000).toFixed(1)} s; ${phase}…`);
      } else if (now - lastReport > 10_000) {
        lastReport = now;
        console.log(`  ${done} residents, ${Math.round(done / ((now - start) / 1000))}/s`);
      }
    },
  });
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${handle.kind}: ${summary.residents} residents, ${summary.households} households, ` +
      `${summary.snapshots} snapshots, ${summary.changes} changes by ${summary.method} in ${seconds.toFixed(1)} s ` +
      `= ${Math.round(summary.residents / seconds)} residents/s`,
  );

  // The normal services work on top: one search by name.
  const service = new ResidentService(
    handle.db,
    audit,
    { inquiryPurposes: config.inquiryPurposes, editLockMinutes: config.editLockMinutes },
    keyring,
  );
  const t = performance.now();
  const hits = await service.search(actor, { name: 'サトウ', pageSize: 20 });
  console.log(`search 'サトウ': ${hits.total} persons, ${Math.round(performance.now() - t)} ms`);
} finally {
  await handle.close();
  if (benchDb && !values.keep) await admin(`DROP DATABASE IF EXISTS "${benchDb}"`);
}
