import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { testKeyring } from '../keys/testing.js';
import { insertSupportMeasure } from '../protection/index.js';
import { protectionServices } from '../protection/testing.js';
import { ensureMunicipality, loadPopulation } from '../registry/index.js';
import {
  ADDRESS,
  ADDRESS_2,
  TEST_LG_CODE,
  actor,
  foreignPerson,
  moveInOf,
  person,
  registryServices,
  testClock,
} from '../registry/testing.js';
import { PERMISSIONS, type Actor, type Permission } from '../shared/index.js';
import {
  FullSetLine,
  exportFullSet,
  exportFullSetToFile,
  type ExportFullSetOptions,
  type FullSetPerson,
} from './index.js';

const POPULATION = 300;
const clock = testClock();
let handle: DatabaseHandle;
let services: ReturnType<typeof registryServices>;
/** A household created before the population (lowest 宛名番号): moved during the snapshot test. */
let moving: { personNos: string[]; householdNo: string };
/** A household with suppressions and a support measure. */
let guarded: { personNos: string[]; householdNo: string; myNumbers: string[] };
let foreigner: string;
let movedOut: string;

function staffWith(permissions: Permission[]): Actor {
  return {
    lgCode: TEST_LG_CODE,
    staffId: 'staff-exp',
    terminalId: 'T-07',
    permissions: new Set(permissions),
  };
}

async function run(
  o: Partial<ExportFullSetOptions> = {},
): Promise<{ lines: FullSetLine[]; raw: Buffer; result: Awaited<ReturnType<typeof exportFullSet>> }> {
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (c: Buffer) => chunks.push(c));
  const result = await exportFullSet({
    db: handle.db,
    keyring: testKeyring(handle.db),
    audit: services.audit,
    actor,
    out,
    pageSize: 64,
    ...o,
  });
  const raw = Buffer.concat(chunks);
  const text = gunzipSync(raw).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text
    .slice(0, -1)
    .split('\n')
    .map((l) => FullSetLine.parse(JSON.parse(l)));
  return { lines, raw, result };
}

const personsOf = (lines: FullSetLine[]) => lines.filter((l): l is FullSetPerson => l.type === 'person');

async function lastLogEntry() {
  return handle.db
    .selectFrom('access_log')
    .selectAll()
    .where('lg_code', '=', TEST_LG_CODE)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
}

beforeAll(async () => {
  handle = await openTestDatabase();
  services = registryServices(handle, clock);
  const { changes } = services;
  await ensureMunicipality(handle.db, TEST_LG_CODE, '架空市');
  const first = await changes.moveIn(
    actor,
    moveInOf([person(), person({ relationship: '子', name: { family: '山田', given: '次郎' } })]),
  );
  moving = { personNos: first.persons.map((p) => p.personNo), householdNo: first.householdNos[0]! };
  await loadPopulation({
    db: handle.db,
    keyring: testKeyring(handle.db),
    audit: services.audit,
    actor,
    seed: 7,
    residents: POPULATION,
    municipalityName: '架空市',
    batchHouseholds: 50,
  });
  const members = [
    person(),
    person({ relationship: '妻', sex: 'female', name: { family: '山田', given: '花子' } }),
  ];
  const second = await changes.moveIn(actor, moveInOf(members, { address: ADDRESS_2 }));
  guarded = {
    personNos: second.persons.map((p) => p.personNo),
    householdNo: second.householdNos[0]!,
    myNumbers: members.map((m) => m.myNumber!),
  };
  const { suppressions } = protectionServices(handle.db, clock);
  const officer = staffWith([...PERMISSIONS]);
  await suppressions.set(officer, {
    target: { personNo: guarded.personNos[0]! },
    process: 'certificate',
    level: 'error',
    startsOn: clock.today(),
    reason: '交付を止める',
  });
  await suppressions.set(officer, {
    target: { householdNo: guarded.householdNo },
    process: 'change',
    level: 'alert',
    startsOn: '2026-01-01',
    endsOn: '2027-12-31',
    reason: '世帯の異動に注意',
  });
  await insertSupportMeasure(handle.db, {
    lgCode: TEST_LG_CODE,
    personNo: guarded.personNos[1]!,
    status: 'active',
    startsOn: '2026-04-01',
    endsOn: '2027-03-31',
    createdBy: 'staff-001',
  });
  const third = await changes.moveIn(actor, moveInOf([foreignPerson()]));
  foreigner = third.persons[0]!.personNo;
  const fourth = await changes.moveIn(actor, moveInOf([person()]));
  movedOut = fourth.persons[0]!.personNo;
  await changes.moveOut(actor, {
    notifiedOn: '2026-11-26',
    plannedDate: '2026-11-25',
    personNos: [movedOut],
    destination: { text: '大阪府大阪市北区梅田1丁目1番1号', abroad: false },
  });
}, 120_000);

afterAll(async () => {
  await handle?.close();
});

describe('exportFullSet', () => {
  it('writes every current resident, in 宛名番号 order, as the register holds them', async () => {
    const { lines, result } = await run();
    expect(lines[0]).toMatchObject({ type: 'header', lgCode: TEST_LG_CODE, asOf: '2026-11-26' });
    expect(lines.at(-1)).toEqual({ type: 'end', persons: result.persons });
    const persons = personsOf(lines);
    expect(lines).toHaveLength(persons.length + 2);

    const { rows } = await sql<{ person_no: string; record: Record<string, unknown> }>`
      SELECT person_no, record FROM resident WHERE lg_code = ${TEST_LG_CODE} AND status = 'current'
      ORDER BY person_no`.execute(handle.db);
    expect(rows.length).toBeGreaterThan(POPULATION / 2);
    expect(persons.map((p) => p.personNo)).toEqual(rows.map((r) => r.person_no));
    expect(result.persons).toBe(rows.length);
    expect(result.pages).toBe(Math.ceil(rows.length / 64));
    for (const [i, row] of rows.entries()) {
      const p = persons[i]!;
      const r = row.record;
      for (const item of [
        'name',
        'reading',
        'birthDate',
        'sex',
        'address',
        'householdNo',
        'relationship',
      ] as const) {
        expect(p[item], `${item} of ${row.person_no}`).toEqual(r[item]);
      }
      expect(p.residentCode).toBe(r['residentCode']);
      expect(p.status).toBe('current');
      expect(p.myNumber).toBeUndefined();
    }
    expect(persons.some((p) => p.personNo === movedOut)).toBe(false);
    const foreign = persons.find((p) => p.personNo === foreigner)!;
    expect(foreign.foreign?.latinName).toBe('SMITH JOHN');
    expect(foreign.foreign?.status.category).toBe('midLongTerm');
  });

  it('carries the suppressions in force and the support-measure flag, read per page', async () => {
    const { lines, result } = await run();
    const persons = personsOf(lines);
    const [head, wife] = guarded.personNos.map((no) => persons.find((p) => p.personNo === no)!);
    expect(head!.suppressions).toEqual([
      { scope: 'household', process: 'change', level: 'alert', startsOn: '2026-01-01', endsOn: '2027-12-31' },
      { scope: 'person', process: 'certificate', level: 'error', startsOn: '2026-11-26' },
    ]);
    expect(head!.supportMeasure).toBe(false);
    expect(wife!.suppressions).toEqual([head!.suppressions[0]]);
    expect(wife!.supportMeasure).toBe(true);
    expect(result.suppressed).toBe(2);
    expect(result.supportMeasure).toBe(1);
    const others = persons.filter((p) => !guarded.personNos.includes(p.personNo));
    expect(others.every((p) => p.suppressions.length === 0 && !p.supportMeasure)).toBe(true);
  });

  it('includes removed records (除票) when asked', async () => {
    const { lines, result } = await run({ includeRemoved: true });
    const persons = personsOf(lines);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM resident_all WHERE lg_code = ${TEST_LG_CODE}`.execute(handle.db);
    expect(persons).toHaveLength(rows[0]!.n);
    const gone = persons.find((p) => p.personNo === movedOut)!;
    expect(gone.status).toBe('movedOut');
    expect(gone.removal?.effectiveDate).toBe('2026-11-25');
    expect(result.removed).toBe(persons.filter((p) => p.status !== 'current').length);
    expect(result.removed).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toMatchObject({ includeRemoved: true });
  });

  it('gives the same bytes for the same register', async () => {
    const a = await run();
    const b = await run({ pageSize: 17 });
    expect(b.raw.equals(a.raw)).toBe(true);
    expect(b.result.sha256).toBe(a.result.sha256);
    expect(a.result.bytes).toBe(a.raw.length);
  });

  it('writes the 個人番号 only with the permission, and logs that it did', async () => {
    const plain = await run();
    const text = gunzipSync(plain.raw).toString('utf8');
    for (const n of guarded.myNumbers) expect(text).not.toContain(n);
    expect((await lastLogEntry()).my_number_accessed).toBe(false);

    const withNumbers = await run({ withMyNumber: true });
    const persons = personsOf(withNumbers.lines);
    expect(guarded.personNos.map((no) => persons.find((p) => p.personNo === no)!.myNumber)).toEqual(
      guarded.myNumbers,
    );
    expect(withNumbers.result.myNumbers).toBeGreaterThanOrEqual(2);
    const entry = await lastLogEntry();
    expect(entry.my_number_accessed).toBe(true);
    expect(entry.details).toMatchObject({ withMyNumber: true, myNumbers: withNumbers.result.myNumbers });

    const out = new PassThrough();
    const refused = exportFullSet({
      db: handle.db,
      keyring: testKeyring(handle.db),
      audit: services.audit,
      actor: staffWith(['batch']),
      out,
      withMyNumber: true,
    });
    await expect(refused).rejects.toMatchObject({ code: 'FORBIDDEN_ITEM' });
    expect(out.readableLength).toBe(0);
    expect(await lastLogEntry()).toMatchObject({ function: 'export', outcome: 'refused' });
  });

  it('needs the batch permission', async () => {
    await expect(run({ actor: staffWith(['inquiry', 'myNumberView']) })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await lastLogEntry()).toMatchObject({
      function: 'export',
      outcome: 'refused',
      staff_id: 'staff-exp',
    });
  });

  it('writes one access-log entry with counts and no personal data', async () => {
    const before = await lastLogEntry();
    const { result } = await run({ job: 'tax-2026' });
    const entry = await lastLogEntry();
    expect(entry.seq).toBe(before.seq + 1);
    expect(entry.seq).toBe(result.accessLogSeq);
    expect(entry).toMatchObject({ function: 'export', outcome: 'success', staff_id: actor.staffId });
    expect(entry.details).toMatchObject({
      job: 'tax-2026',
      kind: 'fullSet',
      persons: result.persons,
      pages: result.pages,
      bytes: result.bytes,
      withMyNumber: false,
      includeRemoved: false,
    });
    const logged = JSON.stringify(entry);
    expect(logged).not.toContain('山田');
    expect(logged).not.toContain('SMITH');
  });

  it('reads one snapshot: a change committed between pages does not appear', async () => {
    const [a, b] = moving.personNos;
    let change: Promise<unknown> | undefined;
    const { lines } = await run({
      pageSize: 1,
      onPage: async (progress) => {
        if (progress.pages !== 1) return;
        expect(progress.lastPersonNo).toBe(a);
        change = services.changes.moveWithin(actor, {
          effectiveDate: '2026-11-26',
          notifiedOn: '2026-11-26',
          personNos: [a!, b!],
          address: ADDRESS_2,
          household: { mode: 'same' },
        });
        // On PostgreSQL the move commits while the export waits; the embedded database has one
        // connection, so there it commits after the export's transaction.
        if (handle.kind === 'postgres') await change;
      },
    });
    await change;
    const persons = personsOf(lines);
    for (const no of [a, b]) {
      expect(persons.find((p) => p.personNo === no)!.address.text).toBe(ADDRESS.text);
    }
    const after = await run();
    for (const no of [a, b]) {
      expect(personsOf(after.lines).find((p) => p.personNo === no)!.address.text).toBe(ADDRESS_2.text);
    }
  });

  it('fails with the writer, logs the failure, and leaves no file', async () => {
    let written = 0;
    const failing = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        done(written > 1000 ? new Error('disk full') : null);
      },
    });
    await expect(run({ out: failing, pageSize: 8 })).rejects.toThrow('disk full');
    expect(await lastLogEntry()).toMatchObject({ function: 'export', outcome: 'failed' });

    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'jumin-export-'));
    try {
      const file = path.join(dir, 'full-set.ndjson.gz');
      const options = {
        db: handle.db,
        keyring: testKeyring(handle.db),
        audit: services.audit,
        actor,
        pageSize: 32,
      };
      await expect(
        exportFullSetToFile(file, {
          ...options,
          onPage: (p) => {
            if (p.pages === 3) throw new Error('stopped');
          },
        }),
      ).rejects.toThrow('stopped');
      expect(await fsp.readdir(dir)).toEqual([]);
      expect((await lastLogEntry()).outcome).toBe('failed');
      await expect(
        exportFullSetToFile(file, { ...options, actor: staffWith(['inquiry']) }),
      ).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(await fsp.readdir(dir)).toEqual([]);

      const done = await exportFullSetToFile(file, options);
      expect((await fsp.readdir(dir)).sort()).toEqual(['full-set.ndjson.gz', 'full-set.ndjson.gz.sha256']);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(`${file}.sha256`, 'utf8')).toBe(`${done.sha256}  full-set.ndjson.gz\n`);
      const lines = gunzipSync(fs.readFileSync(file)).toString('utf8').trim().split('\n');
      expect(lines).toHaveLength(done.persons + 2);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
