/**
 * The benchmark suite of issue 7 (`npm run bench`), against PostgreSQL only:
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/jumin npm run bench                  # 4,000,000 residents
 *   DATABASE_URL=… npm run bench -- --small                                             # 100,000 residents
 *   DATABASE_URL=… npm run bench -- --residents 200000 --reuse --only search,inquiry
 *
 * 1. Creates the database `<db>_bench_<N>` (dropped first; `--reuse` keeps a loaded one), migrates it,
 *    loads N synthetic residents (`--seed`) with a persistent local KEK in bench-data/ (so a reused
 *    database can still decrypt 個人番号 and use its blind index), runs VACUUM ANALYZE (which also merges
 *    the trigram GIN indexes' pending lists: without it every search scans them) and prints the load rate.
 * 2. Times, through the real services: search (前方一致: kana name prefix, name + birth date, address;
 *    個人番号; and a 部分一致 given reading without a target),
 *    inquiry (with its access-log entry), changes (move-ins and moves within, with audit and outbox; one
 *    connection and `--workers`; after `--warmup` untimed move-ins), certificate rendering, the annual
 *    statistics (HOOK), the purge dry run, and HTTP load with autocannon on the real app's search and
 *    inquiry routes, idle and then under a background bulk read (`--background`, HOOK for the bulk
 *    full-set export: suite/background.ts).
 * 3. Prints one markdown table with each figure next to its target and writes it, with JSON, machine info
 *    and the command, to bench-results/ (gitignored).
 *
 * Queries are drawn deterministically before timing: residents whose 宛名番号 hashes (with the seed) into a
 * bucket, so the same persons whatever the physical order of a reused database. Staff
 * actors rotate over BENCH_STAFF ids (a counter has many clerks), and office hours cover the whole day, the
 * run's days open (休日開庁), so the off-hours rule does not alert on every entry of a night or weekend run
 * (an alert costs each change one more statement); the mass-search threshold is raised
 * likewise (`--realistic-monitoring` keeps the defaults).
 * Not part of `npm test`: it is a script, not a *.test.ts file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import { loadOrCreateAuditKey, type AuditKey } from '../src/audit/index.js';
import { loadCertificateFont, certificateFontPath, renderCertificate } from '../src/certificates/index.js';
import { sampleHousehold } from '../src/certificates/testing.js';
import { loadConfig, type Config } from '../src/config.js';
import { migrateToLatest, openPostgres, type DatabaseHandle } from '../src/db/index.js';
import { openKeyring, type Keyring } from '../src/keys/index.js';
import { runPurge } from '../src/lifecycle/index.js';
import {
  ChangeService,
  DEFAULT_POPULATION_RESIDENTS,
  DEFAULT_POPULATION_SEED,
  ResidentService,
  annualStatistics,
  populate,
  type AuditSettings,
} from '../src/registry/index.js';
import {
  DomainError,
  PERMISSIONS,
  myNumberFromBody,
  residentCodeFromBody,
  systemActor,
  systemClock,
  type Actor,
} from '../src/shared/index.js';
import { SESSION_COOKIE, StaffService, totpCode } from '../src/staff/index.js';
import { startBackground, type BackgroundReport } from './suite/background.js';
import {
  latencyOf,
  machineBusyMs,
  markdownTable,
  ms,
  timeEach,
  type Figure,
  type Latency,
} from './suite/stats.js';

// ── options ──────────────────────────────────────────────────────────────────────────────────────────────

const STEPS = ['search', 'inquiry', 'change', 'certificate', 'statistics', 'purge', 'http'] as const;
type Step = (typeof STEPS)[number];

const { values } = parseArgs({
  options: {
    residents: { type: 'string' },
    small: { type: 'boolean', default: false },
    seed: { type: 'string', default: String(DEFAULT_POPULATION_SEED) },
    reuse: { type: 'boolean', default: false },
    only: { type: 'string' },
    samples: { type: 'string', default: '200' },
    changes: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '4' },
    'cert-runs': { type: 'string', default: '100' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '4' },
    background: { type: 'string', default: 'export' },
    'realistic-monitoring': { type: 'boolean', default: false },
  },
});

const url = process.env['DATABASE_URL'];
if (!url || !/^postgres(ql)?:\/\//.test(url)) {
  console.error(
    'npm run bench needs PostgreSQL: set DATABASE_URL to a server where databases may be created, e.g.\n' +
      '  DATABASE_URL=postgres://postgres@127.0.0.1:5432/jumin npm run bench -- --small\n' +
      'It creates (and with --reuse keeps) the database <name>_bench_<N> there.',
  );
  process.exit(2);
}
const residents = values.residents
  ? Number(values.residents)
  : values.small
    ? 100_000
    : DEFAULT_POPULATION_RESIDENTS;
const seed = Number(values.seed);
const samples = Number(values.samples);
const changeCount = Number(values.changes);
const warmupCount = Number(values.warmup);
const workers = Number(values.workers);
const only = new Set<Step>(
  values.only ? (values.only.split(',').map((s) => s.trim()) as Step[]) : [...STEPS],
);
for (const s of only)
  if (!STEPS.includes(s)) throw new Error(`unknown step ${s} (steps: ${STEPS.join(', ')})`);
const wants = (s: Step) => only.has(s);

const LG = '999016';
const ROOT = path.resolve(import.meta.dirname, '..');
const DATA_DIR = path.join(ROOT, 'bench-data');
const RESULTS_DIR = path.join(ROOT, 'bench-results');
const server = new URL(url);
const baseName = decodeURIComponent(server.pathname.slice(1)) || 'postgres';
const benchDb = `${baseName}_bench_${residents}`;
const benchUrl = Object.assign(new URL(url), { pathname: `/${benchDb}` }).toString();
/** Other (valid) municipality codes, for the chain experiment of the change step. */
const CHAIN_LG_CODES = [LG, '999024', '999032', '999041', '999059', '999067', '999075', '999083'];
/** Counter clerks the timed calls rotate over. */
const BENCH_STAFF = 20;

/** The environment of the services and of the HTTP server process. */
const benchEnv: Record<string, string> = {
  NODE_ENV: 'test',
  DATABASE_URL: benchUrl,
  JUMIN_LG_CODE: LG,
  JUMIN_MASTER_KEY_FILE: path.join(DATA_DIR, 'master.key'),
  JUMIN_AUDIT_KEY_FILE: path.join(DATA_DIR, 'audit.pem'),
  LOG_LEVEL: 'warn',
  ...(values['realistic-monitoring']
    ? {}
    : {
        JUMIN_OFFICE_HOURS: '00:00-23:59',
        // 休日開庁 for the Japan days a run may span: a weekend run alerts no more than a weekday one.
        JUMIN_OPEN_DAYS: [0, 1, 2]
          .map((k) => new Date(Date.now() + (9 + 24 * k) * 3_600_000).toISOString().slice(0, 10))
          .join(','),
        JUMIN_ALERT_MASS_SEARCH_MINIMUM: '1000000',
      }),
};

// ── HOOKS for the other helpers' work (issue 7) ──────────────────────────────────────────────────────────

interface HookContext {
  handle: DatabaseHandle;
  config: Config;
  keyring: Keyring;
  audit: AuditSettings;
  actor: Actor;
}

/**
 * The 住民基本台帳関係年報 over the whole population: the stock on January 1 of the population's year
 * (generated events run to 2026-04-01, so the day before them is rebuilt from the history) and the flows of
 * the year before. Timed once; target ≤ 30 s.
 */
const STATISTICS_AS_OF = '2026-01-01';
const annualStatisticsOf = (ctx: HookContext) =>
  annualStatistics(
    ctx.handle.db,
    ctx.audit,
    ctx.actor,
    { asOf: STATISTICS_AS_OF },
    { parallel: ctx.handle.kind === 'postgres' },
  );

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────

async function admin(
  statement: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<Record<string, string>>> {
  // The server's maintenance database: the one DATABASE_URL names need not exist (only its name is used).
  const maintenance = Object.assign(new URL(url!), { pathname: '/postgres' }).toString();
  const client = new pg.Client({ connectionString: maintenance });
  await client.connect();
  try {
    return await client.query(statement, params);
  } finally {
    await client.end();
  }
}

const log = (line: string) => console.log(line);
const figures: Figure[] = [];
const results: Record<string, unknown> = {};

function latencyFigure(step: string, name: string, l: Latency, targetMs?: number, notes?: string): void {
  figures.push({
    step,
    name,
    value: `p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)} (n=${l.count})`,
    ...(targetMs !== undefined ? { target: `p95 ≤ ${targetMs} ms`, met: l.p95 <= targetMs } : {}),
    ...(notes ? { notes } : {}),
  });
  log(`  ${name}: p50 ${ms(l.p50)}  p95 ${ms(l.p95)}  p99 ${ms(l.p99)}  max ${ms(l.max)}  n=${l.count}`);
}

function actorFor(i: number): Actor {
  return {
    lgCode: LG,
    staffId: `bench-${String((i % BENCH_STAFF) + 1).padStart(2, '0')}`,
    terminalId: 'BENCH',
    permissions: new Set(PERMISSIONS),
  };
}

/** Runs items on `n` concurrent workers; returns each call's latency and the wall time. */
async function onWorkers<T>(
  items: readonly T[],
  n: number,
  work: (item: T, i: number) => Promise<unknown>,
): Promise<{ times: number[]; wallMs: number; failures: Map<string, number> }> {
  const times: number[] = [];
  const failures = new Map<string, number>();
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        const t = performance.now();
        try {
          await work(items[i]!, i);
          times.push(performance.now() - t);
        } catch (e) {
          const code = e instanceof DomainError ? e.code : e instanceof Error ? e.name : 'unknown';
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
      }
    }),
  );
  return { times, wallMs: performance.now() - start, failures };
}

// ── 1. database and population ───────────────────────────────────────────────────────────────────────────

fs.mkdirSync(DATA_DIR, { recursive: true });
fs.mkdirSync(RESULTS_DIR, { recursive: true });
const startedAt = new Date();
log(`benchmark database ${benchDb} (${residents} residents, seed ${seed})`);

const exists = (await admin('SELECT 1 FROM pg_database WHERE datname = $1', [benchDb])).rowCount === 1;
if (!values.reuse || !exists) {
  await admin(`DROP DATABASE IF EXISTS "${benchDb}"`);
  await admin(`CREATE DATABASE "${benchDb}"`);
}
const config = loadConfig(benchEnv);
const handle = openPostgres(benchUrl, { max: Math.max(10, workers + 2) });
let httpChild: ChildProcess | undefined;
try {
  await migrateToLatest(handle.db);
  const keyring = await openKeyring(handle.db, config);
  const auditKey: AuditKey = loadOrCreateAuditKey(config.audit.keyFile, { create: true });
  const clock = systemClock;
  const audit: AuditSettings = { clock, monitoring: config.monitoring, criteriaKey: auditKey.criteriaKey };
  await sql`INSERT INTO municipality (lg_code, name) VALUES (${LG}, '架空市') ON CONFLICT DO NOTHING`.execute(
    handle.db,
  );
  const loaded = Number(
    (await sql<{ n: string }>`SELECT count(*) AS n FROM resident WHERE lg_code = ${LG}`.execute(handle.db))
      .rows[0]?.n ?? 0,
  );
  if (loaded === 0) {
    log(`loading ${residents} residents…`);
    // As `jumin populate` does: COPY, bulk mode on this empty register (indexes and keys rebuilt at the end).
    const summary = await populate(config, handle, { residents, seed, lgCode: LG }, log);
    const loadSeconds = summary.seconds;
    const analyzeStart = performance.now();
    await sql`VACUUM ANALYZE`.execute(handle.db);
    const analyzeSeconds = (performance.now() - analyzeStart) / 1000;
    const rate = summary.residents / loadSeconds;
    log(
      `  loaded ${summary.residents} residents, ${summary.households} households, ${summary.snapshots} snapshots, ` +
        `${summary.changes} changes in ${loadSeconds.toFixed(1)} s = ${Math.round(rate)} residents/s ` +
        `(VACUUM ANALYZE ${analyzeSeconds.toFixed(1)} s)`,
    );
    results['load'] = { ...summary, seconds: loadSeconds, rate, analyzeSeconds };
    figures.push({
      step: 'load',
      name: 'load rate',
      value: `${Math.round(rate).toLocaleString('en')} residents/s (${loadSeconds.toFixed(0)} s)`,
      target: '≥ 50,000 residents/s',
      met: rate >= 50_000,
      notes:
        `${summary.snapshots} snapshots; rows alone ${Math.round(summary.residents / summary.rowSeconds).toLocaleString('en')}/s ` +
        `(built on ${summary.workers} thread${summary.workers > 1 ? 's' : ''}), ` +
        `then indexes and keys rebuilt; VACUUM ANALYZE ${analyzeSeconds.toFixed(0)} s`,
    });
  } else {
    log(`  reusing ${loaded} loaded residents (load not timed)`);
    await sql`VACUUM ANALYZE`.execute(handle.db);
    figures.push({
      step: 'load',
      name: 'load rate',
      value: `reused (${loaded} residents)`,
      target: '≥ 50,000 residents/s',
    });
  }
  const sizes = await sql<{ name: string; size: string }>`
    SELECT c.relname AS name, pg_size_pretty(pg_total_relation_size(c.oid)) AS size
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r'
     ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 6`.execute(handle.db);
  results['tableSizes'] = sizes.rows;
  log(`  largest tables: ${sizes.rows.map((r) => `${r.name} ${r.size}`).join(', ')}`);

  const residentService = new ResidentService(
    handle.db,
    audit,
    { inquiryPurposes: config.inquiryPurposes, editLockMinutes: config.editLockMinutes },
    keyring,
    handle.preparedDb,
  );
  const changeService = new ChangeService(handle.preparedDb ?? handle.db, clock, audit, keyring, {
    numbering: handle.autonomous,
  });
  const purpose = config.inquiryPurposes[0]!;

  // ── the queries, drawn once before timing ──────────────────────────────────────────────────────────────
  interface Sampled {
    person_no: string;
    household_no: string;
    status: string;
    record: {
      name?: { family: string; given: string };
      reading: { family: string; given: string };
      birthDate: { kind: string; date?: string };
      address: { text: string };
    };
  }
  const want = Math.max(samples, 50);
  const total = Math.max(loaded, residents);
  /** Persons whose 宛名番号 falls in a seeded hash bucket: about one in `mod`. */
  const bucket = (mod: number, salt: number) =>
    sql<boolean>`abs(hashtext(person_no || ':' || ${String(seed * 1000 + salt)})) % ${sql.lit(Math.max(1, Math.floor(mod)))} = 0`;
  const sampled = (
    await sql<Sampled>`SELECT person_no, household_no, status, record FROM resident
      WHERE lg_code = ${LG} AND ${bucket(total / (want * 4), 0)} ORDER BY person_no`.execute(handle.db)
  ).rows;
  const pick = <T>(items: readonly T[], n: number): T[] => {
    const step = Math.max(1, items.length / n);
    const out: T[] = [];
    for (let i = 0; out.length < n && Math.floor(i) < items.length; i += step)
      out.push(items[Math.floor(i)]!);
    return out;
  };
  const persons = pick(sampled, samples);
  const withBirth = pick(
    sampled.filter((s) => s.record.birthDate.kind === 'exact' && s.record.name),
    samples,
  );
  log(`  drew ${sampled.length} residents for the queries (seed ${seed})`);

  // ── 2a. search ─────────────────────────────────────────────────────────────────────────────────────────
  if (wants('search')) {
    log('search (ResidentService.search, pageSize 20, each logged)');
    // 個人番号 of sampled current residents: read once through the inquiry (revealed, logged), not timed.
    const myNumbers: string[] = [];
    for (const [i, p] of persons.filter((s) => s.status === 'current').entries()) {
      if (myNumbers.length >= samples) break;
      const q = await residentService.inquire(actorFor(i), p.person_no, { purpose, reveal: ['myNumber'] });
      if (q.current.myNumber) myNumbers.push(q.current.myNumber);
    }
    const kinds: Array<[string, Array<Parameters<ResidentService['search']>[1]>]> = [
      // A surname alone: with 90 surnames in the generator every one is common (about 1 % of the city),
      // so at 1M and more these are answered "too many, add a criterion" (MAX_TEXT_MATCHES).
      ['kana family name alone', persons.map((p) => ({ name: p.record.reading.family }))],
      // What a clerk types to find one person: the family reading and the start of the given one.
      [
        'kana name prefix',
        persons.map((p) => ({ name: `${p.record.reading.family}${p.record.reading.given.slice(0, 1)}` })),
      ],
      [
        'name + birth date',
        withBirth.map((p) => ({
          name: `${p.record.name!.family}${p.record.name!.given}`,
          birthDate: p.record.birthDate.date!,
        })),
      ],
      ['address', persons.map((p) => ({ address: p.record.address.text }))],
      ['個人番号', myNumbers.map((myNumber) => ({ myNumber }))],
      // 部分一致, on request in the UI: the given reading alone, found anywhere (trigram indexes). Reported
      // without a target: the targets are for the default 前方一致 above.
      [
        'given reading anywhere (部分一致)',
        persons
          .filter((p) => [...p.record.reading.given].length >= 3)
          .map((p) => ({ name: p.record.reading.given, match: 'contains' as const })),
      ],
    ];
    const searchResults: Record<string, unknown> = {};
    for (const [name, criteria] of kinds) {
      // A few untimed calls first (plans cached, pages warm).
      for (const c of criteria.slice(0, 5)) await residentService.search(actorFor(0), { ...c, pageSize: 20 });
      let hits = 0;
      let tooMany = 0;
      let i = 0;
      const times = await timeEach(criteria, async (c) => {
        const r = await residentService.search(actorFor(i++), { ...c, pageSize: 20 });
        hits += r.total;
        if (r.tooMany) tooMany += 1;
      });
      const l = latencyOf(times);
      const listed = criteria.length - tooMany;
      latencyFigure(
        'search',
        `search: ${name}`,
        l,
        name.includes('部分一致') ? undefined : 50,
        `mean total ${(hits / Math.max(1, listed)).toFixed(0)}` +
          (tooMany > 0 ? `; ${tooMany} of ${criteria.length} refused as too broad` : ''),
      );
      searchResults[name] = { ...l, meanTotal: hits / Math.max(1, listed), tooMany };
    }
    results['search'] = searchResults;
  }

  // ── 2b. inquiry ────────────────────────────────────────────────────────────────────────────────────────
  if (wants('inquiry')) {
    log('inquiry (ResidentService.inquire: record, history, suppressions, access-log entry)');
    for (const p of persons.slice(0, 5)) await residentService.inquire(actorFor(0), p.person_no, { purpose });
    let i = 0;
    const times = await timeEach(persons, (p) =>
      residentService.inquire(actorFor(i++), p.person_no, { purpose }),
    );
    const l = latencyOf(times);
    latencyFigure('inquiry', 'inquiry', l, 30);
    results['inquiry'] = l;
    // Untimed first on every connection the concurrent calls use: a server's pool is open and warm, while
    // here all but one would start their backends (and prepare their statements) inside the timed calls.
    await onWorkers(persons.slice(0, workers * 5), workers, (p, j) =>
      residentService.inquire(actorFor(j), p.person_no, { purpose }),
    );
    const conc = await onWorkers(persons, workers, (p, j) =>
      residentService.inquire(actorFor(j), p.person_no, { purpose }),
    );
    const lc = latencyOf(conc.times);
    latencyFigure(
      'inquiry',
      `inquiry, ${workers} concurrent`,
      lc,
      30,
      `${((conc.times.length / conc.wallMs) * 1000).toFixed(0)} inquiries/s`,
    );
    results['inquiryConcurrent'] = { ...lc, perSecond: (conc.times.length / conc.wallMs) * 1000 };
  }

  // ── 2c. changes ────────────────────────────────────────────────────────────────────────────────────────
  if (wants('change')) {
    log(`changes (ChangeService with audit and outbox; ${changeCount} per run)`);
    const today = clock.today();
    const base = randomInt(0, 8_000_000_000);
    let serial = 0;
    const moveIn = (i: number, lgCode = LG) => {
      serial += 1;
      const n = base + serial;
      return changeService.moveIn(
        { ...actorFor(i), lgCode },
        {
          effectiveDate: today,
          notifiedOn: today,
          origin: 'domestic',
          address: {
            text: `架空市中央区本町一丁目${(n % 40) + 1}番${(n % 17) + 1}号`,
            postalCode: '100-0001',
            code: '101001',
          },
          previousAddress: { text: '東京都千代田区千代田1番1号', abroad: false },
          household: { mode: 'new' },
          members: [
            {
              kind: 'japanese',
              name: { family: '転入', given: `太郎${n}` },
              reading: { family: 'テンニュウ', given: 'タロウ', status: 'certified' },
              birthDate: '1980-05-05',
              sex: 'male',
              relationship: '世帯主',
              honseki: {
                kind: 'registered',
                address: '東京都千代田区千代田1番',
                familyRegisterHead: '転入　太郎',
              },
              // Bodies below the generated population's ranges (population.ts): never already registered.
              myNumber: myNumberFromBody(String(n).padStart(11, '0')),
              residentCode: residentCodeFromBody(String(n % 1_000_000_000).padStart(10, '0')),
            },
          ],
        },
      );
    };
    const households = (
      await sql<{ household_no: string; persons: string[] }>`
        SELECT m.household_no, array_agg(m.person_no ORDER BY m.person_no) AS persons
          FROM (SELECT DISTINCT household_no
                  FROM resident
                 WHERE lg_code = ${LG} AND status = 'current' AND ${bucket(total / (changeCount * 2 * 2), 1)}) s
          JOIN resident m ON m.lg_code = ${LG} AND m.household_no = s.household_no AND m.status = 'current'
         GROUP BY m.household_no
        HAVING bool_and(m.planned_move_out IS NULL)
         ORDER BY m.household_no`.execute(handle.db)
    ).rows;
    const moveWithin = (h: { persons: string[] }, i: number) =>
      changeService.moveWithin(actorFor(i), {
        effectiveDate: today,
        notifiedOn: today,
        personNos: h.persons,
        address: {
          text: `架空市北区緑町三丁目${(i % 30) + 1}番${(i % 11) + 1}号`,
          postalCode: '100-0002',
          code: '102003',
        },
        household: { mode: 'same' },
      });
    const changeResults: Record<string, unknown> = {};
    const runs: Array<[string, number, (i: number) => Promise<unknown>]> = [];
    const half = Math.floor(households.length / 2);
    const withinOne = households.slice(0, Math.min(half, changeCount));
    const withinMany = households.slice(half, half + Math.min(half, changeCount));
    runs.push(['move-in, 1 connection', 1, (i) => moveIn(i)]);
    runs.push([`move-in, ${workers} workers`, workers, (i) => moveIn(i)]);
    runs.push(['move within, 1 connection', 1, (i) => moveWithin(withinOne[i]!, i)]);
    runs.push([`move within, ${workers} workers`, workers, (i) => moveWithin(withinMany[i]!, i)]);
    // Comparison: the same move-ins spread over other municipalities, i.e. over separate access logs and
    // number counters; in one municipality, appends side by side take separate lanes of its log.
    const chains = CHAIN_LG_CODES.slice(0, workers);
    for (const lg of chains) {
      await sql`INSERT INTO municipality (lg_code, name) VALUES (${lg}, 'ベンチ市') ON CONFLICT DO NOTHING`.execute(
        handle.db,
      );
      await keyring.forMunicipality(lg);
    }
    runs.push([
      `move-in, ${workers} workers, ${chains.length} municipalities (separate chains)`,
      workers,
      (i) => moveIn(i, chains[i % chains.length]),
    ]);
    // Warm-up, untimed: a server runs warm. Node's CPU a move-in on four connections kept falling over the
    // first two thousand changes (V8 compiling the services' code; each pooled connection preparing its
    // statements), from about 4 ms to about 2. With a single warm-up change the first timed runs paid for
    // it, and the order of the runs decided which of them looked faster.
    const spare = households.slice(Math.min(half, changeCount), half).slice(0, Math.ceil(warmupCount / 4));
    const warmIn = await onWorkers(
      Array.from({ length: warmupCount }, (_, i) => i),
      workers,
      (i) => moveIn(i),
    );
    const warmWithin = await onWorkers(spare, workers, (h, i) => moveWithin(h, i));
    const warmFailures = [...warmIn.failures, ...warmWithin.failures].map(([c, k]) => `${c}×${k}`);
    log(
      `  warm-up, untimed: ${warmIn.times.length} move-ins, ${warmWithin.times.length} moves within` +
        (warmFailures.length > 0 ? `, refused ${warmFailures.join(', ')}` : ''),
    );
    for (const [name, n, op] of runs) {
      const count = name.startsWith('move within')
        ? (name.includes('workers') ? withinMany : withinOne).length
        : changeCount;
      const items = Array.from({ length: count }, (_, i) => i);
      // Each run starts after a checkpoint, so none lands inside one run and not another (its full-page
      // writes cost CPU and disk).
      await sql`CHECKPOINT`.execute(handle.db);
      const busyBefore = machineBusyMs();
      const nodeBefore = process.cpuUsage();
      const r = await onWorkers(items, n, (i) => op(i));
      const nodeUsage = process.cpuUsage(nodeBefore);
      const busyAfter = machineBusyMs();
      const cpuPerChange =
        busyBefore === undefined || busyAfter === undefined
          ? undefined
          : (busyAfter - busyBefore) / Math.max(1, r.times.length);
      // This process's share: the services (validation, encryption, building queries) and the driver.
      const nodeCpuPerChange = (nodeUsage.user + nodeUsage.system) / 1000 / Math.max(1, r.times.length);
      const perSecond = (r.times.length / r.wallMs) * 1000;
      const l = latencyOf(r.times);
      const failed = [...r.failures.entries()].map(([c, k]) => `${c}×${k}`).join(', ');
      figures.push({
        step: 'change',
        name: `changes: ${name}`,
        value: `${perSecond.toFixed(0)} changes/s (p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, n=${l.count})`,
        target: '≥ 300 changes/s',
        met: perSecond >= 300,
        notes: [
          cpuPerChange === undefined
            ? ''
            : `machine CPU ${cpuPerChange.toFixed(1)} ms a change (Node ${nodeCpuPerChange.toFixed(1)} ms)`,
          failed ? `refused: ${failed}` : '',
        ]
          .filter(Boolean)
          .join('; '),
      });
      log(
        `  ${name}: ${perSecond.toFixed(0)} changes/s, p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, n=${l.count}` +
          (cpuPerChange === undefined
            ? ''
            : `, machine CPU ${cpuPerChange.toFixed(1)} ms a change (Node ${nodeCpuPerChange.toFixed(1)} ms)`) +
          (failed ? `, refused ${failed}` : ''),
      );
      changeResults[name] = {
        ...l,
        perSecond,
        cpuPerChange,
        nodeCpuPerChange,
        failures: Object.fromEntries(r.failures),
      };
    }
    results['change'] = changeResults;
  }

  // ── 2d. certificate rendering ──────────────────────────────────────────────────────────────────────────
  if (wants('certificate')) {
    log('certificate rendering (5-member 住民票の写し, as bench/certificate-render.bench.ts)');
    const font = loadCertificateFont(certificateFontPath(process.env['JUMIN_CERTIFICATE_FONT']));
    const { head, subjects } = sampleHousehold(5);
    const input = {
      type: 'residentCopy' as const,
      municipality: '架空市',
      mayorTitle: '架空市長　見本　一郎',
      font,
      issuedAt: new Date(),
      issuedOn: clock.today(),
      issueNumber: '令和8年11月26日 架空市 T-01 P1 000001',
      official: false,
      preview: false,
      items: new Set(['householdHead', 'honseki'] as const),
      head,
      subjects,
    };
    await renderCertificate(input);
    const times = await timeEach(
      Array.from({ length: Number(values['cert-runs']) }, (_, i) => i),
      () => renderCertificate(input),
    );
    const l = latencyOf(times);
    figures.push({
      step: 'certificate',
      name: 'certificate render',
      value: `p50 ${ms(l.p50)}, p95 ${ms(l.p95)} (n=${l.count})`,
      target: 'median < 50 ms',
      met: l.p50 < 50,
      notes: `${font.name}; rendering only, not the issuance service`,
    });
    log(`  p50 ${ms(l.p50)}  p95 ${ms(l.p95)}  n=${l.count}  (${font.name})`);
    results['certificate'] = { ...l, font: font.name };
  }

  // ── 2e. annual statistics (HOOK) ───────────────────────────────────────────────────────────────────────
  if (wants('statistics')) {
    log(`annual statistics (as of ${STATISTICS_AS_OF}, flows of the year before)`);
    const start = performance.now();
    const stats = await annualStatisticsOf({ handle, config, keyring, audit, actor: actorFor(0) });
    const seconds = (performance.now() - start) / 1000;
    const population = stats.population.total.total.total;
    const households = stats.households.japaneseOnly + stats.households.foreignOnly + stats.households.mixed;
    log(
      `  ${seconds.toFixed(1)} s (${population} persons in ${households} households on ${STATISTICS_AS_OF})`,
    );
    figures.push({
      step: 'statistics',
      name: 'annual statistics',
      value: `${seconds.toFixed(1)} s`,
      target: '≤ 30 s',
      met: seconds <= 30,
      notes: `as of ${STATISTICS_AS_OF}: ${population} persons, ${households} households`,
    });
    results['statistics'] = { seconds, asOf: STATISTICS_AS_OF, population, households };
  }

  // ── 2f. purge dry run ──────────────────────────────────────────────────────────────────────────────────
  if (wants('purge')) {
    log('purge dry run (runPurge, dryRun)');
    const start = performance.now();
    const report = await runPurge(
      { db: handle.db, clock, auditKey, monitoring: config.monitoring },
      systemActor(LG),
      { dryRun: true },
    );
    const seconds = (performance.now() - start) / 1000;
    figures.push({
      step: 'purge',
      name: 'purge dry run',
      value: `${seconds.toFixed(1)} s`,
      notes: `${report.items.length} candidates`,
    });
    log(`  ${seconds.toFixed(1)} s, ${report.items.length} candidates`);
    results['purge'] = { seconds, candidates: report.items.length };
  }

  // ── 2g. HTTP load, idle and under the background bulk read ─────────────────────────────────────────────
  if (wants('http')) {
    log(`HTTP (autocannon, ${values.connections} connections, ${values.duration} s per run)`);
    const { port, child } = await startServer();
    httpChild = child;
    const origin = `http://127.0.0.1:${port}`;
    const cookie = await signIn(origin, handle, config, keyring);
    const searchPaths = persons.map(
      (p) => `/api/residents?name=${encodeURIComponent(p.record.reading.family)}&pageSize=20`,
    );
    const inquiryPaths = persons.map(
      (p) => `/api/residents/${p.person_no}?purpose=${encodeURIComponent(purpose)}`,
    );
    const http: Record<string, unknown> = {};
    const run = async (label: string, paths: string[]) => {
      const r = await cannon(origin, cookie, paths);
      http[label] = r;
      log(
        `  ${label}: p50 ${ms(r.latency.p50)}  p95 ${ms(r.latency.p95)}  p99 ${ms(r.latency.p99)}  ` +
          `${r.rps.toFixed(0)} req/s  non-2xx ${r.non2xx}  errors ${r.errors}`,
      );
      return r;
    };
    await cannon(origin, cookie, searchPaths.slice(0, 20), 2); // warm-up
    const idleSearch = await run('search idle', searchPaths);
    const idleInquiry = await run('inquiry idle', inquiryPaths);
    const bg = startBackground(values.background, {
      url: benchUrl,
      handle,
      keys: keyring.provider,
      lgCode: LG,
      env: benchEnv,
    });
    await new Promise((r) => setTimeout(r, 2000));
    const loadSearch = await run(`search under ${values.background}`, searchPaths);
    const loadInquiry = await run(`inquiry under ${values.background}`, inquiryPaths);
    let report: BackgroundReport | undefined;
    try {
      report = await bg.stop();
    } catch (e) {
      log(`  background load failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    http['background'] = { name: values.background, ...report };
    const fig = (name: string, r: CannonResult, extra: Partial<Figure> = {}) =>
      figures.push({
        step: 'http',
        name,
        value: `p50 ${ms(r.latency.p50)}, p95 ${ms(r.latency.p95)}, p99 ${ms(r.latency.p99)}, ${r.rps.toFixed(0)} req/s`,
        ...extra,
      });
    fig('HTTP search idle', idleSearch, { target: 'p95 ≤ 50 ms', met: idleSearch.latency.p95 <= 50 });
    fig('HTTP inquiry idle', idleInquiry, { target: 'p95 ≤ 30 ms', met: idleInquiry.latency.p95 <= 30 });
    const ratioS = loadSearch.latency.p95 / idleSearch.latency.p95;
    const ratioI = loadInquiry.latency.p95 / idleInquiry.latency.p95;
    fig(`HTTP search under ${values.background}`, loadSearch, {
      target: 'p95 ≤ 2× idle',
      met: ratioS <= 2,
      notes: `ratio ${ratioS.toFixed(2)}; background ${report ? `${report.passes} full passes, ${Math.round(report.bytes / 1e6)} MB ${values.background === 'export' ? 'of gzip written' : 'read'}` : 'failed'}`,
    });
    fig(`HTTP inquiry under ${values.background}`, loadInquiry, {
      notes: `ratio ${ratioI.toFixed(2)}`,
    });
    http['ratios'] = { search: ratioS, inquiry: ratioI };
    results['http'] = http;
  }
} finally {
  if (httpChild) httpChild.kill('SIGTERM');
  await handle.close();
}

// ── 3. summary ───────────────────────────────────────────────────────────────────────────────────────────

const pgVersion = String((await admin('SHOW server_version')).rows[0]?.server_version);
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  postgres: pgVersion,
  loadAverage: os.loadavg().map((n) => Number(n.toFixed(2))),
};
const redacted = Object.assign(new URL(url), { password: server.password ? '***' : '' }).toString();
const command = `DATABASE_URL=${redacted} npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
const table = markdownTable(figures);
const header =
  `# Jumin benchmark, ${startedAt.toISOString()}\n\n` +
  `- command: \`${command}\`\n- database: ${benchDb} (PostgreSQL ${pgVersion}), ${residents} residents, seed ${seed}\n` +
  `- machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}, load average ${machine.loadAverage.join(' ')}\n`;
console.log(`\n${header}\n${table}\n`);
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const file = path.join(RESULTS_DIR, `${stamp}-${residents}`);
fs.writeFileSync(`${file}.md`, `${header}\n${table}\n`);
fs.writeFileSync(
  `${file}.json`,
  `${JSON.stringify({ startedAt, command, database: benchDb, residents, seed, machine, figures, results }, null, 2)}\n`,
);
console.log(`written ${path.relative(ROOT, file)}.md and .json`);

// ── HTTP helpers ─────────────────────────────────────────────────────────────────────────────────────────

async function startServer(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    path.join(ROOT, 'node_modules/.bin/tsx'),
    [path.join(ROOT, 'bench/suite/http-server.ts')],
    {
      env: { ...process.env, ...benchEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`HTTP server exited (${code})`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { port, child };
}

/** A staff member with every permission, signed in through the API (password, then TOTP). */
async function signIn(origin: string, h: DatabaseHandle, c: Config, keyring: Keyring): Promise<string> {
  const loginName = `bench-http-${Date.now()}`;
  const password = 'Correct-Horse-42';
  const created = await new StaffService(h.db, c, systemClock, keyring).create(systemActor(LG), {
    loginName,
    displayName: 'ベンチ職員',
    familyName: 'ベンチ',
    address: '架空市役所',
    password,
    permissions: [...PERMISSIONS],
  });
  const cookieOf = (res: Response) => {
    const found = res.headers.getSetCookie().find((s) => s.startsWith(`${SESSION_COOKIE}=`));
    if (!found) throw new Error(`sign-in failed: ${res.status}`);
    return found.split(';')[0]!;
  };
  const headers = { 'content-type': 'application/json', 'x-terminal-id': 'BENCH-HTTP' };
  const first = await fetch(`${origin}/api/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ loginName, password }),
  });
  const second = await fetch(`${origin}/api/auth/second-factor`, {
    method: 'POST',
    headers: { ...headers, cookie: cookieOf(first) },
    body: JSON.stringify({ code: totpCode(created.totpSecret, new Date()) }),
  });
  return cookieOf(second);
}

interface CannonResult {
  latency: Latency;
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** autocannon on GETs of `paths` in turn; latencies collected per response (autocannon has no p95). */
async function cannon(
  origin: string,
  cookie: string,
  paths: readonly string[],
  seconds?: number,
): Promise<CannonResult> {
  let i = 0;
  const times: number[] = [];
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: origin,
        connections: Number(values.connections),
        duration: seconds ?? Number(values.duration),
        headers: { cookie },
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }),
          },
        ],
      },
      (err, result) => (err ? reject(err as Error) : resolve(result)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => times.push(responseTime));
  });
  return {
    latency: latencyOf(times),
    rps: r.requests.total / (r.duration || 1),
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}
