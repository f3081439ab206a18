import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { testAuditKey, MONITORING } from '../audit/testing.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { actor, moveInOf, person, registryServices } from '../registry/testing.js';
import { FixedClock, type FlexDate, type PlainDate } from '../shared/index.js';
import { findRun, scanForTraces } from './lifecycle.repository.js';
import {
  BACKUP_RETENTION_DAYS,
  findPurgeCandidates,
  purgedPersonHash,
  runPurge,
  verifyPurgeCertificate,
  type PurgeDeps,
} from './purge.job.js';
import { isPurgeDue, latestPlausibleDay, purgeCutoff, retentionStart } from './retention.js';

describe('the purge boundary (pure)', () => {
  it('purges removals before April 1 of FY(run) − 150, never on it', () => {
    expect(purgeCutoff('2171-10-15' as PlainDate)).toBe('2021-04-01');
    expect(purgeCutoff('2172-03-31' as PlainDate)).toBe('2021-04-01');
    expect(purgeCutoff('2172-04-01' as PlainDate)).toBe('2022-04-01');
    // 2021-03-31 is FY2020: 151 fiscal years before FY2171.
    expect(isPurgeDue('2021-03-31' as PlainDate, '2171-04-01' as PlainDate)).toBe(true);
    // 2021-04-01 is FY2021: exactly 150 fiscal years before FY2171 — kept until FY2172.
    expect(isPurgeDue('2021-04-01' as PlainDate, '2171-10-15' as PlainDate)).toBe(false);
    expect(isPurgeDue('2021-04-01' as PlainDate, '2172-03-31' as PlainDate)).toBe(false);
    expect(isPurgeDue('2021-04-01' as PlainDate, '2172-04-01' as PlainDate)).toBe(true);
    expect(isPurgeDue(undefined, '2999-04-01' as PlainDate)).toBe(false);
  });

  it('takes the latest plausible day of an uncertain date', () => {
    const approx = (precision: 'year' | 'month' | 'monthPart', sortKey: string): FlexDate => ({
      kind: 'approximate',
      text: 'x',
      precision,
      sortKey: sortKey as PlainDate,
    });
    expect(latestPlausibleDay(approx('year', '2021-01-01'))).toBe('2021-12-31');
    expect(latestPlausibleDay(approx('month', '2024-02-01'))).toBe('2024-02-29');
    expect(latestPlausibleDay(approx('monthPart', '2021-05-11'))).toBe('2021-05-20');
    expect(latestPlausibleDay(approx('monthPart', '2021-05-21'))).toBe('2021-05-31');
    expect(
      latestPlausibleDay({
        kind: 'range',
        text: 'x',
        from: '2021-05-01',
        to: '2021-05-10',
        sortKey: '2021-05-01',
      } as FlexDate),
    ).toBe('2021-05-10');
    expect(latestPlausibleDay({ kind: 'unknown', text: '年月日不詳' })).toBeUndefined();
    // The processing day bounds an unknown date; an uncertain one may push the start later, never earlier.
    expect(
      retentionStart({
        effectiveDate: '2021-03-01' as PlainDate,
        processedOn: '2021-03-31' as PlainDate,
        deathDate: { kind: 'unknown', text: '年月日不詳' },
      }),
    ).toBe('2021-03-31');
    expect(
      retentionStart({
        effectiveDate: '2021-03-01' as PlainDate,
        processedOn: '2021-03-31' as PlainDate,
        deathDate: approx('year', '2021-01-01'),
      }),
    ).toBe('2021-12-31');
    expect(
      retentionStart({ effectiveDate: '2021-03-01' as PlainDate, processedOn: undefined }),
    ).toBeUndefined();
  });
});

describe('jumin purge', () => {
  let handle: DatabaseHandle;
  const clock = new FixedClock('2021-03-01T01:00:00Z');
  const auditKey = testAuditKey();
  let deps: PurgeDeps;
  const p: Record<string, string> = {};
  const codes: Record<string, string> = {};

  /** A person moved in on `inOn` and dead, recorded on `recordedOn`, with the death date as written. */
  async function dies(
    label: string,
    inOn: string,
    recordedOn: string,
    deathDate: string,
    effective = recordedOn,
  ) {
    const { changes } = registryServices(handle, clock);
    clock.setDay(inOn);
    const who = person({
      name: { family: '消去', given: `試験${label}` },
      reading: { family: 'ショウキョ', given: `シケン${label}`, status: 'certified' },
    });
    const r = await changes.moveIn(actor, moveInOf([who], { effectiveDate: inOn, notifiedOn: inOn }));
    const personNo = r.persons[0]!.personNo;
    clock.setDay(recordedOn);
    await changes.death(actor, { effectiveDate: effective, notifiedOn: recordedOn, personNo, deathDate });
    p[label] = personNo;
    codes[label] = who.residentCode!;
    return personNo;
  }

  beforeAll(async () => {
    handle = await openTestDatabase();
    deps = { db: handle.db, clock, auditKey, monitoring: MONITORING, batchSize: 2 };
    const { changes } = registryServices(handle, clock);
    await sql`INSERT INTO municipality (lg_code, name) VALUES ('999016', '架空市') ON CONFLICT DO NOTHING`.execute(
      handle.db,
    );
    await dies('onBoundary', '2021-03-01', '2021-03-31', '2021-03-30'); // FY2020: purged in FY2171
    await dies('dayLater', '2021-03-01', '2021-04-01', '2021-03-31', '2021-03-31'); // recorded FY2021: kept
    await dies('roughly', '2021-03-01', '2021-03-31', '令和3年頃'); // may be up to 2021-12-31: kept
    await dies('unknown', '2021-03-01', '2021-03-31', '年月日不詳'); // bounded by the recording day
    // A household moved in together: one member purged, the other stays (removed much later).
    clock.setDay('2021-03-01');
    const stays = person({ relationship: '妻', name: { family: '消去', given: '残る' } });
    const shared = person({
      name: { family: '消去', given: '試験shared' },
      reading: { family: 'ショウキョ', given: 'シケンシェア', status: 'certified' },
    });
    const both = await changes.moveIn(actor, moveInOf([shared, stays], { effectiveDate: '2021-03-01' }));
    p['shared'] = both.persons[0]!.personNo;
    p['stays'] = both.persons[1]!.personNo;
    codes['shared'] = shared.residentCode!;
    clock.setDay('2021-03-20');
    await changes.death(actor, {
      effectiveDate: '2021-03-20',
      personNo: p['shared'],
      deathDate: '2021-03-19',
    });
    const householdNo = both.householdNos[0]!;
    // Issuance records: one of the purged person alone, one shared with the person who stays.
    for (const subjects of [[p['onBoundary']!], [p['shared'], p['stays']]]) {
      await sql`INSERT INTO issuance (lg_code, issued_at, issued_on, serial, issue_number, place, terminal_id,
          printer_id, staff_id, certificate_type, requester_type, requester, household_no, subject_persons, items,
          with_history, sheets, fee, official, my_number_printed)
        VALUES ('999016', now(), '2021-03-25', ${subjects.length}, 'x', '本庁', 'T-01', 'P-01', 'staff-001',
          'removedRecordCopy', 'self', ${JSON.stringify({ type: 'self', personNo: subjects[0] })}::jsonb,
          ${householdNo}, ${`{${subjects.join(',')}}`}::text[], '{}', false, 1, 300, false, false)`.execute(
        handle.db,
      );
    }
    // Support measures: one of a purged person (with details and an event), one of the person who stays
    // protecting a purged person with them.
    for (const [applicant, withThem] of [
      [p['onBoundary']!, p['stays']],
      [p['stays'], p['shared']],
    ]) {
      const { rows } = await sql<{ measure_id: number }>`
        INSERT INTO support_measure (lg_code, person_no, status, starts_on, ends_on, created_by)
        VALUES ('999016', ${applicant}, 'ended', '2020-04-01', '2021-03-31', 'staff-001') RETURNING measure_id`.execute(
        handle.db,
      );
      const id = rows[0]!.measure_id;
      await sql`INSERT INTO support_measure_protected VALUES ('999016', ${id}, ${withThem})`.execute(
        handle.db,
      );
      await sql`INSERT INTO support_measure_detail VALUES ('999016', ${id}, '\\x01'::bytea, '\\x02'::bytea)`.execute(
        handle.db,
      );
      await sql`INSERT INTO support_measure_event (lg_code, measure_id, kind, on_date, staff_id, terminal_id, recorded_at)
        VALUES ('999016', ${id}, 'applied', '2020-04-01', 'staff-001', 'T-01', now())`.execute(handle.db);
    }
    await sql`INSERT INTO suppression (lg_code, person_no, process, level, starts_on, reason, set_by, set_at)
      VALUES ('999016', ${p['onBoundary']}, 'certificate', 'error', '2021-03-01', '\\x00'::bytea, 'staff-001', now())`.execute(
      handle.db,
    );
  }, 60_000);

  afterAll(async () => {
    await handle.close();
  });

  it('a dry run lists exactly the persons due and deletes nothing', async () => {
    clock.setDay('2171-10-15');
    const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM resident_history`.execute(
      handle.db,
    );
    const report = await runPurge(deps, actor, { dryRun: true });
    expect(report.fiscalYear).toBe(2171);
    expect(report.removedBefore).toBe('2021-04-01');
    const listed = report.items.map((i) => i.personNo).sort();
    expect(listed).toEqual([p['onBoundary'], p['shared'], p['unknown']].sort());
    expect(report.items.every((i) => i.outcome === 'wouldPurge')).toBe(true);
    const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM resident_history`.execute(
      handle.db,
    );
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    expect(await findRun(handle.db, '999016', 'purge', 2171)).toBeUndefined();
  });

  it('nothing is due one day before the fiscal year in which 150 fiscal years have passed', async () => {
    expect(await findPurgeCandidates(handle.db, '999016', '2171-03-31' as PlainDate)).toEqual([]);
  });

  it('purges, leaves no trace, and writes a verifiable deletion certificate', async () => {
    clock.setDay('2171-10-15');
    const report = await runPurge(deps, actor, { dryRun: false });
    expect(report.ok).toBe(true);
    const purged = [p['onBoundary']!, p['shared']!, p['unknown']!];
    expect(
      report.items
        .filter((i) => i.outcome === 'purged')
        .map((i) => i.personNo)
        .sort(),
    ).toEqual([...purged].sort());
    expect(report.rowsDeleted['resident']).toBe(3);
    expect(report.rowsDeleted['issuance']).toBe(1);
    expect(report.rowsDeleted['suppression']).toBe(1);
    expect(report.rowsDeleted['outbox']).toBeGreaterThan(0);
    expect(report.rowsDeleted['support_measure']).toBe(1);
    expect(report.rowsDeleted['support_measure_detail']).toBe(1);
    expect(report.rowsDeleted['support_measure_protected']).toBe(2);
    const measures = await handle.db.selectFrom('support_measure').select('person_no').execute();
    expect(measures.map((m) => m.person_no)).toEqual([p['stays']]);
    expect(report.rowsRedacted['issuance']).toBe(1);
    expect(report.rowsRedacted['change']).toBe(1); // the shared move-in
    expect(report.verification?.traces).toEqual([]);

    // Searches by name, reading and number find nothing of them; the others are still there.
    const { residents } = registryServices(handle, clock);
    for (const label of ['onBoundary', 'shared', 'unknown']) {
      expect((await residents.search(actor, { name: `試験${label}`, match: 'contains' })).total).toBe(0);
      expect((await residents.search(actor, { personNo: p[label]! })).total).toBe(0);
      expect((await residents.search(actor, { residentCode: codes[label]! })).total).toBe(0);
    }
    expect((await residents.search(actor, { name: 'シケンunknown', match: 'contains' })).total).toBe(0);
    expect((await residents.search(actor, { name: '試験dayLater', match: 'contains' })).total).toBe(1);
    // 前方一致 (the btree ranges of migration 0014) likewise.
    expect((await residents.search(actor, { name: '消去試験onBoundary' })).total).toBe(0);
    expect((await residents.search(actor, { name: '消去試験dayLater' })).total).toBe(1);
    expect((await residents.search(actor, { name: '試験roughly', match: 'contains' })).total).toBe(1);
    expect((await residents.search(actor, { personNo: p['stays']! })).total).toBe(1);

    // No table holds their numbers or names (but the access log's chained target_persons).
    const scan = await scanForTraces(handle.db, {
      tokens: [...purged, codes['onBoundary']!, codes['shared']!, codes['unknown']!],
      texts: ['試験onBoundary', '試験shared', '試験unknown', 'シケンシェア'],
    });
    expect(scan.traces).toEqual([]);
    expect(scan.tablesScanned).toBeGreaterThan(20);

    // The person who stays keeps a whole history; the shared issuance names only them.
    const { rows: issuances } = await sql<{ subject_persons: string[] }>`
      SELECT subject_persons FROM issuance`.execute(handle.db);
    expect(issuances.map((r) => r.subject_persons)).toEqual([[p['stays']]]);

    // The certificate: signed with the audit key, in the access log, hashes only.
    const signed = report.signed!;
    expect(verifyPurgeCertificate(signed, auditKey.publicKey)).toBe(true);
    expect(
      verifyPurgeCertificate(
        { ...signed, certificate: { ...signed.certificate, persons: 2 } },
        auditKey.publicKey,
      ),
    ).toBe(false);
    expect(signed.certificate.persons).toBe(3);
    expect(signed.certificate.operator).toBe(actor.staffId);
    expect(signed.certificate.lastBackupExpiresOn).toBe('2171-11-15');
    expect(BACKUP_RETENTION_DAYS).toBe(31);
    expect(signed.certificate.personHashes).toContain(purgedPersonHash(auditKey, '999016', p['unknown']!));
    const logged = await handle.db
      .selectFrom('access_log')
      .select(['details', 'target_persons'])
      .where('seq', '=', report.accessLogSeq!)
      .where('lg_code', '=', '999016')
      .executeTakeFirstOrThrow();
    expect(logged.target_persons).toEqual([]);
    expect((logged.details as { signature: string }).signature).toBe(signed.signature);
    expect(JSON.stringify(logged.details)).not.toContain(p['unknown']!);
    expect(await findRun(handle.db, '999016', 'purge', 2171)).toMatchObject({ persons: 3 });
  });

  it('a second run the same year deletes nothing more', async () => {
    const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM resident_history`.execute(
      handle.db,
    );
    const report = await runPurge(deps, actor, { dryRun: false });
    expect(report.ok).toBe(true);
    expect(report.items).toEqual([]);
    expect(report.rowsDeleted).toEqual({});
    const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM resident_history`.execute(
      handle.db,
    );
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('the next fiscal year purges the records removed exactly 150 fiscal years earlier; the scan covers tables added later', async () => {
    // A table the purge knows nothing about, holding one of the persons' numbers: the catalog scan finds it.
    await sql`CREATE TABLE later_added (note text)`.execute(handle.db);
    await sql`INSERT INTO later_added VALUES (${`照会メモ ${p['dayLater']} 参照`})`.execute(handle.db);
    clock.setDay('2172-04-01');
    const report = await runPurge(deps, actor, { dryRun: false });
    expect(report.items.map((i) => i.personNo).sort()).toEqual([p['dayLater'], p['roughly']].sort());
    expect(report.verification?.traces).toEqual([{ table: 'later_added', rows: 1 }]);
    expect(report.ok).toBe(false);
    expect(report.signed?.certificate.verification.traces).toEqual([{ table: 'later_added', rows: 1 }]);
    // Not marked done: the October timer tries again, and the failed entry alerts the auditors.
    expect(await findRun(handle.db, '999016', 'purge', 2172)).toBeUndefined();
    const { rows } = await sql<{ outcome: string }>`
      SELECT outcome FROM access_log WHERE lg_code = '999016' AND seq = ${report.accessLogSeq!}`.execute(
      handle.db,
    );
    expect(rows[0]!.outcome).toBe('failed');
  });

  it('needs the batch permission', async () => {
    await expect(
      runPurge(deps, { ...actor, permissions: new Set(['inquiry']) }, { dryRun: true }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
