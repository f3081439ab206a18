import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { MONITORING, testAuditKey } from '../audit/testing.js';
import { certificateService, flat, pdfText } from '../certificates/testing.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import { FULL_VIEW, actor, moveInOf, person, registryServices } from '../registry/testing.js';
import { FixedClock, type PlainDate } from '../shared/index.js';
import {
  archiveDone,
  findArchiveCandidates,
  restoreFromArchive,
  runArchive,
  type ArchiveDeps,
} from './archive.job.js';
import { runPurge } from './purge.job.js';

const government = {
  type: 'government' as const,
  body: '架空県警察本部',
  legalBasis: '刑事訴訟法第197条第2項',
};

describe('the removed-records archive', () => {
  let handle: DatabaseHandle;
  const clock = new FixedClock('2020-01-10T01:00:00Z');
  let deps: ArchiveDeps;
  let old = '';
  let recent = '';
  let stays = '';

  async function count(table: string, personNo: string): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE person_no = ${personNo}`.execute(handle.db);
    return rows[0]!.n;
  }

  beforeAll(async () => {
    handle = await openTestDatabase();
    deps = { db: handle.db, clock, monitoring: MONITORING, batchSize: 1 };
    await ensureMunicipality(handle.db, '999016', '架空市');
    const { changes } = registryServices(handle, clock);
    clock.setDay('2020-01-10');
    const household = await changes.moveIn(
      actor,
      moveInOf(
        [
          person({
            name: { family: '保存', given: '旧子' },
            reading: { family: 'ホゾン', given: 'キュウコ', status: 'certified' },
          }),
          person({ relationship: '妻', name: { family: '保存', given: '残子' } }),
          person({
            relationship: '子',
            name: { family: '保存', given: '新子' },
            reading: { family: 'ホゾン', given: 'シンコ', status: 'certified' },
          }),
        ],
        { effectiveDate: '2020-01-10', notifiedOn: '2020-01-10' },
      ),
    );
    [old, stays, recent] = household.persons.map((p) => p.personNo as string) as [string, string, string];
    clock.setDay('2020-01-20');
    await changes.death(actor, { effectiveDate: '2020-01-20', personNo: old, deathDate: '2020-01-19' });
    await changes.headChange(actor, {
      effectiveDate: '2020-01-20',
      householdNo: household.householdNos[0]!,
      relationships: [
        { personNo: stays, relationship: '世帯主' },
        { personNo: recent, relationship: '子' },
      ],
    });
    clock.setDay('2022-06-01');
    await changes.death(actor, { effectiveDate: '2022-06-01', personNo: recent, deathDate: '2022-05-31' });
    clock.setDay('2024-02-01');
    await certificateService(handle.db, clock).issue(actor, {
      type: 'removedRecordCopy',
      personNos: [old],
      requester: government,
    });
  }, 120_000);

  afterAll(async () => {
    await handle.close();
  });

  it('a dry run lists removals more than five years old and moves nothing', async () => {
    clock.setDay('2025-06-01');
    const report = await runArchive(deps, actor, { dryRun: true });
    expect(report.removedBefore).toBe('2020-06-01');
    expect(report.items).toEqual([{ personNo: old, removedOn: '2020-01-20', outcome: 'wouldArchive' }]);
    expect(await count('resident_archive', old)).toBe(0);
    expect(await archiveDone(handle.db, '999016', 2025)).toBe(false);
  });

  it('moves the record, its history and its issuances in one go; the rest stay live', async () => {
    const historyBefore = await count('resident_history', old);
    const report = await runArchive(deps, actor, { dryRun: false });
    expect(report.ok).toBe(true);
    expect(report.items).toEqual([{ personNo: old, removedOn: '2020-01-20', outcome: 'archived' }]);
    expect(report.issuancesArchived).toBe(1);
    expect(await count('resident', old)).toBe(0);
    expect(await count('resident_history', old)).toBe(0);
    expect(await count('resident_archive', old)).toBe(1);
    expect(await count('resident_history_archive', old)).toBe(historyBefore);
    expect(await count('resident', recent)).toBe(1);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM issuance_archive`.execute(
      handle.db,
    );
    expect(rows[0]!.n).toBe(1);
    expect(await archiveDone(handle.db, '999016', 2025)).toBe(true);
    expect(await findArchiveCandidates(handle.db, '999016', '2025-06-01' as PlainDate)).toEqual([]);
  });

  it('search, inquiry, issuance history and certificates still reach the archived person', async () => {
    const { residents } = registryServices(handle, clock);
    const byName = await residents.search(actor, { name: 'ホゾンキュウコ' });
    expect(byName.hits.map((h) => [h.personNo, h.removed])).toEqual([[old, true]]);
    expect(
      (await residents.search(actor, { name: '保存', status: 'removed' })).hits.map((h) => h.personNo),
    ).toEqual([old, recent].sort());
    const inquiry = await residents.inquire(actor, old, FULL_VIEW);
    expect(inquiry.history.length).toBeGreaterThan(1);

    const certificates = certificateService(handle.db, clock);
    const { pdf } = await certificates.issue(actor, {
      type: 'removedRecordCopy',
      personNos: [old],
      requester: government,
      withHistory: true,
    });
    expect(flat(pdfText(pdf))).toContain(flat('保存　旧子'));
    const issued = await certificates.listIssuances(actor, { personNo: old });
    expect(issued.total).toBe(2);
  });

  it('changes to an archived person are refused until it is restored', async () => {
    const { changes } = registryServices(handle, clock);
    const correction = {
      effectiveDate: '2025-06-01',
      personNo: old,
      kind: 'minorCorrection' as const,
      patch: { remarks: '確認' },
    };
    await expect(changes.correct(actor, correction)).rejects.toMatchObject({ code: 'PERSON_NOT_FOUND' });
    await restoreFromArchive(handle.db, actor, old, { clock, monitoring: MONITORING });
    expect(await count('resident', old)).toBe(1);
    expect(await count('resident_archive', old)).toBe(0);
    await changes.correct(actor, correction);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM issuance_archive`.execute(
      handle.db,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('the purge reaches archived records too', async () => {
    clock.setDay('2026-06-01');
    await runArchive(deps, actor, { dryRun: false });
    expect(await count('resident_archive', old)).toBe(1);
    clock.setDay('2171-10-01');
    const report = await runPurge(
      { db: handle.db, clock, auditKey: testAuditKey(), monitoring: MONITORING },
      actor,
      { dryRun: false },
    );
    expect(report.ok).toBe(true);
    expect(report.items.map((i) => i.personNo)).toEqual([old]);
    expect(report.rowsDeleted['resident_archive']).toBe(1);
    expect(report.rowsDeleted['issuance_archive']).toBe(2);
    expect(await count('resident_history_archive', old)).toBe(0);
  });
});
