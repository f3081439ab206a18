import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAuditKey, MONITORING } from '../audit/testing.js';
import { loadConfig } from '../config.js';
import { migrateToLatest, type DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import { actor, moveInOf, person, registryServices } from '../registry/testing.js';
import { FixedClock } from '../shared/index.js';
import { registerLifecycleCommands } from './purge.cli.js';
import { runDueLifecycleJobs, type LifecycleScheduleDeps } from './schedule.js';

let handle: DatabaseHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-purge-cli-'));
const keyFile = path.join(dir, 'keys', 'audit-ed25519.pem');
const clock = new FixedClock('2021-03-01T01:00:00Z');
let first = '';
let second = '';

async function removedPerson(recordedOn: string): Promise<string> {
  const { changes } = registryServices(handle, clock);
  clock.setDay('2021-03-01');
  const r = await changes.moveIn(
    actor,
    moveInOf([person()], { effectiveDate: '2021-03-01', notifiedOn: '2021-03-01' }),
  );
  clock.setDay(recordedOn);
  const personNo = r.persons[0]!.personNo;
  await changes.death(actor, { effectiveDate: recordedOn, personNo, deathDate: recordedOn });
  return personNo;
}

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, '999016', '架空市');
  first = await removedPerson('2021-03-31');
  second = await removedPerson('2022-03-31');
}, 60_000);
afterAll(async () => {
  await handle.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ output: string; exitCode: number }> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  registerLifecycleCommands(program, {
    loadConfig: () => loadConfig({ NODE_ENV: 'test', JUMIN_AUDIT_KEY_FILE: keyFile }),
    openDatabase: () => Promise.resolve({ ...handle, close: () => Promise.resolve() }),
    migrateToLatest,
    print: (text) => lines.push(text),
    clock,
  });
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'jumin', ...args]);
    return { output: lines.join('\n'), exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
  }
}

async function stillThere(personNo: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM resident_all WHERE person_no = ${personNo}`.execute(handle.db);
  return rows[0]!.n === 1;
}

describe('jumin purge', () => {
  it('--dry-run lists 宛名番号 and retention start, no names, and deletes nothing', async () => {
    clock.setDay('2171-10-01');
    const { output, exitCode } = await run('purge', '--dry-run');
    expect(exitCode).toBe(0);
    expect(output).toContain(`${first}  保存起算日 2021-03-31  wouldPurge`);
    expect(output).not.toContain(second);
    expect(output).not.toContain('山田');
    expect(output).toContain('対象 1 名（試行: 何も消去していません）。');
    expect(await stillThere(first)).toBe(true);
  });

  it('--run needs an operator, then deletes and prints the signed certificate', async () => {
    await expect(run('purge', '--run')).rejects.toThrow('--operator');
    await expect(run('purge', '--dry-run', '--run')).rejects.toThrow('exactly one');
    const { output, exitCode } = await run('purge', '--run', '--operator', 'kanri-01');
    expect(exitCode).toBe(0);
    expect(output).toContain('消去 1 名。');
    expect(output).toContain('痕跡はありません');
    expect(output).toContain('"operator": "kanri-01"');
    expect(await stillThere(first)).toBe(false);
    expect(await stillThere(second)).toBe(true);
  });
});

describe('the yearly schedule', () => {
  it('archives in the configured month and purges in October, each once a year', async () => {
    const ran: string[] = [];
    const deps: LifecycleScheduleDeps = {
      db: handle.db,
      clock,
      lgCode: '999016',
      auditKey: testAuditKey(),
      monitoring: MONITORING,
      archiveMonth: 6,
      onRun: (job) => ran.push(job),
      onError: () => (e) => {
        throw e;
      },
    };
    clock.setDay('2172-05-31');
    expect(await runDueLifecycleJobs(deps)).toEqual([]);
    clock.setDay('2172-06-01');
    expect(await runDueLifecycleJobs(deps)).toEqual(['archive']);
    expect(await runDueLifecycleJobs(deps)).toEqual([]);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM resident_archive WHERE person_no = ${second}`.execute(handle.db);
    expect(rows[0]!.n).toBe(1);
    clock.setDay('2172-10-01');
    expect(await runDueLifecycleJobs(deps)).toEqual(['purge']);
    expect(await stillThere(second)).toBe(false);
    clock.setDay('2172-10-31');
    expect(await runDueLifecycleJobs(deps)).toEqual([]);
    expect(ran).toEqual(['archive', 'purge']);
  });
});
