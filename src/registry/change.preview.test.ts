/**
 * The dry run of a change (確認): the snapshots the change would write, after every check of the real one,
 * with nothing left behind — no change, history, outbox message, household, edit-lock release or number
 * taken from the counter — and one inquiry entry in the access log for what was shown.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { DomainError, type Actor } from '../shared/index.js';
import type { ChangeService } from './change.service.js';
import { ensureMunicipality } from './resident.repository.js';
import type { ResidentService } from './resident.service.js';
import {
  FULL_VIEW,
  TEST_LG_CODE,
  actor,
  foreignPerson,
  moveInOf,
  person,
  registryServices,
  testClock,
} from './testing.js';

let handle: DatabaseHandle;
let changes: ChangeService;
let residents: ResidentService;
const clerk: Actor = { ...actor, staffId: 'staff-clerk', permissions: new Set(['change', 'inquiry']) };
const other: Actor = { ...actor, staffId: 'staff-other', permissions: new Set(['change']) };

beforeAll(async () => {
  handle = await openTestDatabase();
  ({ changes, residents } = registryServices(handle, testClock()));
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
});
afterAll(async () => {
  await handle.close();
});

/** Everything a change writes, the number counters and the edit locks included. */
async function state() {
  const r = await sql<Record<string, unknown>>`
    SELECT (SELECT count(*) FROM change)::int AS changes,
           (SELECT count(*) FROM resident_history)::int AS history,
           (SELECT count(*) FROM resident)::int AS residents,
           (SELECT count(*) FROM outbox)::int AS outbox,
           (SELECT count(*) FROM household)::int AS households,
           (SELECT count(*) FROM edit_lock)::int AS locks,
           (SELECT coalesce(json_agg(json_build_object('kind', kind, 'last', last_value) ORDER BY kind), '[]')
              FROM number_counter) AS counters`.execute(handle.db);
  return r.rows[0]!;
}

/** The access-log entries written after `seq`. */
async function logSince(seq: number) {
  return handle.db
    .selectFrom('access_log')
    .selectAll()
    .where('lg_code', '=', TEST_LG_CODE)
    .where('seq', '>', seq)
    .orderBy('seq')
    .execute();
}

async function lastSeq(): Promise<number> {
  const row = await handle.db
    .selectFrom('access_log')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('lg_code', '=', TEST_LG_CODE)
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

describe('the preview of a change', () => {
  it('returns the records a move-in would write, masked, and leaves nothing behind', async () => {
    await changes.moveIn(actor, moveInOf([person()]));
    const input = moveInOf([
      person({ relationship: '世帯主', name: { family: '試行', given: '一郎' } }),
      foreignPerson({ relationship: '妻', sex: 'female' }),
    ]);
    const before = await state();
    const seq = await lastSeq();

    const preview = await changes.preview(clerk, 'moveIn', input);
    expect(preview).toMatchObject({ changeType: 'moveIn', reason: 'domesticMoveIn', reasonLabel: '転入' });
    expect(preview.persons).toHaveLength(2);
    const [head, wife] = preview.persons;
    expect(head!.entering).toBe(true);
    expect(head!.historySeq).toBe(1);
    expect(head!.record.name).toEqual({ family: '試行', given: '一郎' });
    expect(head!.record.relationship).toBe('世帯主');
    expect(head!.record.address.text).toBe(input.address.text);
    expect(head!.record.residentSince).toBe(input.effectiveDate);
    // Masked as the inquiry masks: no 個人番号, 住民票コード, 本籍 or residence status in the answer.
    expect(head!.record.myNumber).toBeUndefined();
    expect(head!.record.residentCode).toBeUndefined();
    expect(head!.record.honseki).toBeUndefined();
    expect(head!.record.masked).toEqual(['myNumber', 'residentCode', 'honseki']);
    expect(wife!.record.foreign?.status).toEqual({ category: 'midLongTerm' });
    expect(wife!.record.foreign?.latinName).toBe('SMITH JOHN');
    expect(JSON.stringify(preview)).not.toContain(input.members[0]!.myNumber!);
    expect(preview.newHouseholdNos).toEqual(preview.householdNos);

    // Nothing written, no number taken: the real move-in gets the very numbers the preview showed.
    expect(await state()).toEqual(before);
    const real = await changes.moveIn(clerk, input);
    expect(real.persons.map((p) => p.personNo)).toEqual(preview.persons.map((p) => p.record.personNo));
    expect(real.householdNos).toEqual(preview.householdNos);

    // The preview itself is logged once, as an inquiry naming no one (the entering persons do not exist).
    const entries = await logSince(seq);
    expect(entries.map((e) => e.function)).toEqual(['inquiry', 'change']);
    expect(entries[0]).toMatchObject({
      staff_id: 'staff-clerk',
      outcome: 'success',
      purpose: '異動入力の確認',
      target_persons: [],
      details: { preview: true, changeType: 'moveIn', reason: 'domesticMoveIn' },
    });
  });

  it('shows a household merge with the new household and relationships; the register is unchanged', async () => {
    const a = await changes.moveIn(
      actor,
      moveInOf([person(), person({ relationship: '妻', sex: 'female' })]),
    );
    const b = await changes.moveIn(actor, moveInOf([person({ birthDate: '1950-01-01' })]));
    const [from, into] = [b.householdNos[0]!, a.householdNos[0]!];
    const father = b.persons[0]!.personNo;
    const before = await state();
    const seq = await lastSeq();

    const preview = await changes.preview(clerk, 'householdMerge', {
      effectiveDate: '2026-11-26',
      notifiedOn: '2026-11-26',
      fromHouseholdNo: from,
      intoHouseholdNo: into,
      relationships: [{ personNo: father, relationship: '父' }],
    });
    expect(preview.persons).toHaveLength(1);
    expect(preview.persons[0]).toMatchObject({ entering: false, historySeq: 2 });
    expect(preview.persons[0]!.record).toMatchObject({
      personNo: father,
      householdNo: into,
      relationship: '父',
      householdOrder: 3,
    });
    expect(preview.newHouseholdNos).toEqual([]);
    expect(await state()).toEqual(before);
    const now = await residents.inquire(actor, father, FULL_VIEW);
    expect(now.current.householdNo).toBe(from);
    expect(now.history).toHaveLength(1);
    const [entry] = await logSince(seq);
    expect(entry).toMatchObject({ function: 'inquiry', target_persons: [father] });
  });

  it('refuses what the change would refuse, logging the refusal as a preview; nothing else is written', async () => {
    const f = await changes.moveIn(actor, moveInOf([person()]));
    const before = await state();
    const seq = await lastSeq();
    const error = await changes
      .preview(clerk, 'birth', {
        effectiveDate: '2026-11-25',
        notifiedOn: '2026-11-26',
        householdNo: f.householdNos[0]!,
        child: person({ relationship: '世帯主', birthDate: '2026-11-25' }),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('TWO_HEADS');
    expect(await state()).toEqual(before);
    const entries = await logSince(seq);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      function: 'change',
      outcome: 'refused',
      details: { changeType: 'birth', code: 'TWO_HEADS', preview: true },
    });
  });

  it('checks permission and the edit lock of another staff member, and keeps the clerk’s own lock', async () => {
    const f = await changes.moveIn(actor, moveInOf([person()]));
    const personNo = f.persons[0]!.personNo;
    const death = {
      effectiveDate: '2026-11-25',
      notifiedOn: '2026-11-26',
      personNo,
      deathDate: '2026-11-25',
    };
    const reader: Actor = { ...clerk, staffId: 'staff-reader', permissions: new Set(['inquiry']) };
    await expect(changes.preview(reader, 'death', death)).rejects.toMatchObject({ code: 'FORBIDDEN' });

    await residents.lockForEdit(other, personNo);
    await expect(changes.preview(clerk, 'death', death)).rejects.toMatchObject({ code: 'LOCKED_BY_OTHER' });
    await residents.releaseEdit(other, personNo);

    await residents.lockForEdit(clerk, personNo);
    const preview = await changes.preview(clerk, 'death', death);
    expect(preview.persons[0]!.record.status).toBe('dead');
    // The clerk's lock survives the preview (a commit would end it): others still cannot edit.
    await expect(residents.lockForEdit(other, personNo)).rejects.toMatchObject({ code: 'LOCKED_BY_OTHER' });
    expect((await residents.inquire(actor, personNo, FULL_VIEW)).current.status).toBe('current');
  });
});
