/**
 * The full-set export (src/linkage) on a kept population: export rate with and without pacing, its CPU
 * cost, and what it does to the counter (search latency measured by a separate probe process while the
 * export runs).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/jumin_pop npx jumin populate --residents 200000
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/jumin_pop npm run bench:export -- \
 *     --runs 0:0,0:10,5000:10 --probe-seconds 20
 *
 * Each run is `maxRowsPerSecond:nice` (0 = unpaced; nice applies to this process while exporting). The
 * probe is a child process (as the server is) searching by name and birth date on 4 connections; its
 * p50/p95 idle come first, then during each run. The export is written to a temporary file (deleted).
 * The probe's searches need the municipality's data keys, wrapped by the KEK the population was loaded
 * with (`--kek-file`; `jumin populate` used JUMIN_MASTER_KEY_FILE). For a population whose KEK is lost,
 * `--reset-keys` deletes the data keys once (the 個人番号 ciphertexts are unreadable already) and the probe
 * makes new ones under `--kek-file` (created if absent).
 * Not part of `npm test`.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { openPostgres } from '../src/db/index.js';
import { Keyring, LocalKeyProvider } from '../src/keys/index.js';
import { exportFullSetToFile } from '../src/linkage/index.js';
import { ResidentService } from '../src/registry/index.js';
import { PERMISSIONS, systemClock, type Actor } from '../src/shared/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '0:0,0:10,5000:10' },
    'probe-seconds': { type: 'string', default: '20' },
    'probe-only': { type: 'boolean', default: false },
    'page-size': { type: 'string', default: '500' },
    lg: { type: 'string', default: '999016' },
    'kek-file': { type: 'string', default: path.join(os.tmpdir(), 'jumin-export-bench.kek') },
    'reset-keys': { type: 'boolean', default: false },
    /** name: name + birth date (trigram, heavy); person: by 宛名番号 (index lookup, light). */
    'probe-kind': { type: 'string', default: 'name' },
  },
});
const url = process.env['DATABASE_URL'];
if (!url) throw new Error('DATABASE_URL (a kept population) is required');
const config = loadConfig({ NODE_ENV: 'test' });
const actor: Actor = {
  lgCode: values.lg,
  staffId: 'bench',
  terminalId: 'BENCH',
  permissions: new Set(PERMISSIONS),
};
const audit = { clock: systemClock, monitoring: config.monitoring, criteriaKey: randomBytes(32) };

const NAMES = ['サトウ', 'スズキ', 'タカハシ', 'タナカ', 'ワタナベ', 'イトウ', 'ヤマモト', 'ナカムラ'];

/** The probe: searches until told to stop, then reports its latencies. */
async function probe(): Promise<void> {
  const handle = openPostgres(url!, { max: 4 });
  const service = new ResidentService(
    handle.db,
    audit,
    { inquiryPurposes: config.inquiryPurposes, editLockMinutes: config.editLockMinutes },
    new Keyring(handle.db, LocalKeyProvider.open(values['kek-file'], { create: true })),
  );
  let stop = false;
  let latencies: number[] = [];
  process.on('message', (m: string) => {
    if (m === 'report') {
      process.send!(summary(latencies));
      latencies = [];
    }
    if (m === 'stop') stop = true;
  });
  const { rows } = await sql<{ person_no: string }>`
    SELECT person_no FROM resident WHERE lg_code = ${values.lg} ORDER BY person_no`.execute(handle.db);
  let i = 0;
  const worker = async () => {
    while (!stop) {
      i += 1;
      const birthDate = `${1940 + (i % 60)}-0${1 + (i % 9)}-1${i % 10}`;
      const criteria =
        values['probe-kind'] === 'person'
          ? { personNo: rows[(i * 7919) % rows.length]!.person_no }
          : { name: NAMES[i % NAMES.length], birthDate, pageSize: 20 };
      const t = performance.now();
      await service.search(actor, criteria);
      latencies.push(performance.now() - t);
    }
  };
  process.send!('ready');
  await Promise.all([worker(), worker(), worker(), worker()]);
  await handle.close();
  process.exit(0);
}

function summary(ms: number[]): { n: number; p50: number; p95: number; p99: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0);
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** Busy and total jiffies of the whole machine. */
function machineCpu(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return { busy: total - idle, total };
}

/** CPU seconds so far of each PostgreSQL backend serving this database (by pid), from /proc. */
function backendCpu(database: string): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmd.startsWith('postgres: ') || !cmd.includes(` ${database} `)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += t - (before.get(pid) ?? 0);
  return sum;
}

async function main(): Promise<void> {
  if (values['reset-keys']) {
    const h = openPostgres(url!, { max: 1 });
    await sql`DELETE FROM data_key WHERE lg_code = ${values.lg}`.execute(h.db);
    await h.close();
  }
  const probeSeconds = Number(values['probe-seconds']);
  // --probe-seconds 0: no probe; the export alone (its database backends' CPU is then measurable).
  const child =
    probeSeconds > 0
      ? fork(fileURLToPath(import.meta.url), ['--probe-only'], {
          execArgv: process.execArgv,
          env: process.env,
        })
      : undefined;
  const next = () => new Promise<unknown>((resolve) => child?.once('message', resolve) ?? resolve('-'));
  await next();
  const report = async () => {
    const r = next();
    child?.send('report');
    return r;
  };
  if (child) {
    await report(); // warm-up discarded
    await new Promise((r) => setTimeout(r, probeSeconds * 1000));
    console.log(
      `idle counter (search by ${values['probe-kind']}, 4 connections): ${JSON.stringify(await report())}`,
    );
  }
  const database = decodeURIComponent(new URL(url!).pathname.slice(1));

  const handle = openPostgres(url!, { max: 2 });
  const keyring = new Keyring(handle.db, LocalKeyProvider.ephemeral());
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'jumin-export-bench-'));
  try {
    for (const spec of values.runs.split(',')) {
      const [rate, nice] = spec.split(':').map(Number) as [number, number];
      os.setPriority(0);
      if (nice > 0) os.setPriority(nice);
      const cpu0 = process.cpuUsage();
      const m0 = machineCpu();
      const b0 = backendCpu(database);
      await report();
      const t = performance.now();
      const result = await exportFullSetToFile(path.join(dir, 'full-set.ndjson.gz'), {
        db: handle.db,
        keyring,
        audit,
        actor,
        pageSize: Number(values['page-size']),
        maxRowsPerSecond: rate,
      });
      const seconds = (performance.now() - t) / 1000;
      const during = await report();
      const cpu = process.cpuUsage(cpu0);
      const m1 = machineCpu();
      const pgCpu = cpuSince(b0, backendCpu(database));
      const nodeCpu = (cpu.user + cpu.system) / 1e6;
      console.log(
        `export rate=${rate || 'unpaced'} nice=${nice}: ${result.persons} persons in ${seconds.toFixed(1)} s = ` +
          `${Math.round(result.persons / seconds)} persons/s, ${(result.bytes / 1e6).toFixed(1)} MB, ` +
          `export process CPU ${nodeCpu.toFixed(1)} s (${Math.round((100 * nodeCpu) / seconds)}% of a core), ` +
          `machine busy ${Math.round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total))}%` +
          (child
            ? `; counter during: ${JSON.stringify(during)}`
            : `, database backend CPU ${pgCpu.toFixed(1)} s, load average ${os.loadavg()[0]!.toFixed(1)}`),
      );
    }
  } finally {
    child?.send('stop');
    await fsp.rm(dir, { recursive: true, force: true });
    await handle.close();
  }
}

if (values['probe-only']) await probe();
else await main();
