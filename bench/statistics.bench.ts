/**
 * Times the annual statistics (住民基本台帳関係年報) over a population already loaded on PostgreSQL, and
 * optionally prints the plans of its two statements with EXPLAIN (ANALYZE, BUFFERS).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/jumin_pop npm run bench:statistics -- \
 *     --as-of 2026-01-01 [--runs 3] [--explain] [--lg 999016]
 *
 * Load the population first (`npx jumin populate --residents N` with the same DATABASE_URL). Migrates the database to
 * the latest migration (the statistics index, 0013). Not part of `npm test`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { migrateToLatest, openPostgres } from '../src/db/index.js';
import { annualStatistics } from '../src/registry/index.js';
import { AGGREGATE_SETTINGS, flowQuery, stockQuery } from '../src/registry/statistics.repository.js';
import { FLOW_REASONS, resolvePeriod, StatisticsQuery } from '../src/registry/statistics.js';
import { PERMISSIONS, systemClock, type Actor } from '../src/shared/index.js';

const { values } = parseArgs({
  options: {
    'as-of': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    runs: { type: 'string', default: '3' },
    explain: { type: 'boolean', default: false },
    lg: { type: 'string', default: '999016' },
  },
});
const url = process.env['DATABASE_URL'];
if (!url) throw new Error('set DATABASE_URL to a PostgreSQL database holding a population');

const handle = openPostgres(url);
try {
  await migrateToLatest(handle.db);
  const config = loadConfig({ NODE_ENV: 'test' });
  const audit = { clock: systemClock, monitoring: config.monitoring, criteriaKey: randomBytes(32) };
  const actor: Actor = {
    lgCode: values.lg,
    staffId: 'bench',
    terminalId: 'BENCH',
    permissions: new Set(PERMISSIONS),
  };
  const query = {
    ...(values['as-of'] ? { asOf: values['as-of'] } : {}),
    ...(values.from ? { from: values.from } : {}),
    ...(values.to ? { to: values.to } : {}),
  };
  const counts = await handle.db
    .selectFrom('resident')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('lg_code', '=', values.lg)
    .executeTakeFirstOrThrow();
  const history = await handle.db
    .selectFrom('resident_history')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('lg_code', '=', values.lg)
    .executeTakeFirstOrThrow();
  console.log(`register: ${counts.n} persons, ${history.n} snapshots`);
  for (let i = 0; i < Number(values.runs); i++) {
    const t = performance.now();
    const s = await annualStatistics(handle.db, audit, actor, query, { parallel: true });
    const ms = performance.now() - t;
    console.log(
      `run ${i + 1}: ${(ms / 1000).toFixed(2)} s — as of ${s.period.asOf}: population ${s.population.total.total.total} ` +
        `(外国人 ${s.population.total.total.foreign}), households ${s.households.total}; ` +
        `${s.period.from}..${s.period.to}: 転入 ${s.flows.moveIn.total.total}, 転出 ${s.flows.moveOut.total.total}, ` +
        `出生 ${s.flows.birth.total}, 死亡 ${s.flows.death.total}`,
    );
  }
  if (values.explain) {
    const period = resolvePeriod(StatisticsQuery.parse(query), systemClock.today());
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // The settings the service runs the aggregates with.
      for (const [name, value] of Object.entries(AGGREGATE_SETTINGS)) {
        await client.query('SELECT set_config($1, $2, false)', [name, value]);
      }
      for (const [name, q] of [
        ['stock: persons', stockQuery(values.lg, period.asOf, 'persons')],
        ['stock: households', stockQuery(values.lg, period.asOf, 'households')],
        ['flows', flowQuery(values.lg, period.from, period.to, FLOW_REASONS)],
      ] as const) {
        const compiled = q.compile(handle.db);
        const plan = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, BUFFERS) ${compiled.sql}`,
          compiled.parameters as unknown[],
        );
        console.log(`\n--- ${name}`);
        for (const row of plan.rows) console.log(row['QUERY PLAN']);
      }
    } finally {
      await client.end();
    }
  }
} finally {
  await handle.close();
}
