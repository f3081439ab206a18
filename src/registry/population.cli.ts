/**
 * `jumin populate [--residents N] [--seed S] [--lg CODE]`: loads a synthetic population (population.ts)
 * into the configured database — by COPY on PostgreSQL (bulk mode, indexes rebuilt at the end, when the
 * register is empty), by INSERTs on the embedded database (which must not be open in a running server).
 *
 * For benchmarks, load tests and demonstrations only: every person is invented, but the rows are real
 * register rows, so the command is refused in production.
 */
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { loadOrCreateAuditKey } from '../audit/index.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { openKeyring } from '../keys/index.js';
import { PERMISSIONS, systemClock, type Actor } from '../shared/index.js';
import { DEFAULT_POPULATION_RESIDENTS, DEFAULT_POPULATION_SEED } from './population.js';
import { loadPopulation, type LoadSummary } from './population.loader.js';

export interface PopulationCommandDeps {
  loadConfig: () => Config;
  openDatabase: (c: Config) => Promise<DatabaseHandle>;
  migrateToLatest: (db: DatabaseHandle['db']) => Promise<string[]>;
  print?: (text: string) => void;
}

const LG_CODE = /^\d{6}$/;
const DEMO_MUNICIPALITY_NAME = '架空市';

function positiveInteger(flag: string, raw: string): number {
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer`);
  return n;
}

/** The load itself, shared by the command and the benchmark suite: progress lines every ten seconds. */
export async function populate(
  config: Config,
  handle: DatabaseHandle,
  o: { residents: number; seed: number; lgCode: string },
  print: (text: string) => void,
): Promise<LoadSummary & { seconds: number; rowSeconds: number }> {
  const keyring = await openKeyring(handle.db, config);
  const key = loadOrCreateAuditKey(config.audit.keyFile, { create: config.env !== 'production' });
  const audit = { clock: systemClock, monitoring: config.monitoring, criteriaKey: key.criteriaKey };
  const actor: Actor = {
    lgCode: o.lgCode,
    staffId: 'system',
    terminalId: 'cli',
    permissions: new Set(PERMISSIONS),
  };
  const start = performance.now();
  let lastReport = start;
  let rowSeconds = 0;
  const summary = await loadPopulation({
    db: handle.db,
    connect: handle.connect,
    connection: handle.connection,
    keyring,
    audit,
    actor,
    seed: o.seed,
    residents: o.residents,
    municipalityName: DEMO_MUNICIPALITY_NAME,
    onProgress: ({ residents, phase }) => {
      const now = performance.now();
      const elapsed = (now - start) / 1000;
      if (phase === 'indexes') {
        rowSeconds = elapsed;
        print(`  ${residents} 人を書き込みました（${elapsed.toFixed(1)} 秒）。索引を作り直しています…`);
      } else if (phase === 'analyze') {
        print(`  索引の再作成を終えました（${elapsed.toFixed(1)} 秒）。統計情報を更新しています…`);
      } else if (now - lastReport >= 10_000) {
        lastReport = now;
        print(`  ${residents} 人（${Math.round(residents / elapsed)} 人/秒）`);
      }
    },
  });
  const seconds = (performance.now() - start) / 1000;
  return { ...summary, seconds, rowSeconds: rowSeconds || seconds };
}

export function registerPopulationCommands(program: Command, deps: PopulationCommandDeps): void {
  const print = deps.print ?? ((text: string) => console.log(text));
  program
    .command('populate')
    .description(
      '架空の住民を一括登録 (synthetic population for benchmarks and demos; refused in production)',
    )
    .option(
      '--residents <n>',
      'persons to generate, removed records included',
      String(DEFAULT_POPULATION_RESIDENTS),
    )
    .option('--seed <n>', 'seed of the generator (same seed, same persons)', String(DEFAULT_POPULATION_SEED))
    .option('--lg <code>', 'municipality (団体コード); default JUMIN_LG_CODE')
    .action(async (o: { residents: string; seed: string; lg?: string }) => {
      const residents = positiveInteger('--residents', o.residents);
      const seed = positiveInteger('--seed', o.seed);
      if (o.lg !== undefined && !LG_CODE.test(o.lg)) throw new Error('--lg must be a 6-digit 団体コード');
      const config = deps.loadConfig();
      if (config.env === 'production') {
        throw new Error('populate writes invented persons into the register: refused in production');
      }
      const handle = await deps.openDatabase(config);
      try {
        await deps.migrateToLatest(handle.db);
        const lgCode = o.lg ?? config.lgCode;
        print(`団体 ${lgCode} に架空の住民 ${residents} 人を登録します（seed ${seed}, ${handle.kind}）。`);
        const s = await populate(config, handle, { residents, seed, lgCode }, print);
        print(
          `完了: ${s.residents} 人、${s.households} 世帯、履歴 ${s.snapshots} 件、異動 ${s.changes} 件` +
            `（${s.method}）。${s.seconds.toFixed(1)} 秒 = ${Math.round(s.residents / s.seconds)} 人/秒` +
            `（行の書き込みのみ ${Math.round(s.residents / s.rowSeconds)} 人/秒）。` +
            `宛名番号 ${s.firstPersonSerial} 番から。`,
        );
      } finally {
        await handle.close();
      }
    });
}
