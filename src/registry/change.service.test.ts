import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdEveryLane } from '../audit/testing.js';
import type { Database, DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { DomainError, personNoFromSerial, type FixedClock } from '../shared/index.js';
import type { ChangeService, ChangeResult } from './change.service.js';
import { ensureMunicipality, findHouseholdMembers, lockHousehold } from './resident.repository.js';
import type { ResidentService } from './resident.service.js';
import {
  ADDRESS_2,
  FULL_VIEW,
  TEST_LG_CODE,
  actor,
  foreignPerson,
  moveInOf,
  moveWithinOf,
  person,
  registryServices,
  testClock,
} from './testing.js';

let handle: DatabaseHandle;
let clock: FixedClock;
let changes: ChangeService;
let residents: ResidentService;

beforeAll(async () => {
  handle = await openTestDatabase();
  clock = testClock();
  ({ changes, residents } = registryServices(handle, clock));
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
});
afterAll(async () => {
  await handle.close();
});

/** Row counts of everything a change writes: a refusal must leave them all unchanged. */
async function counts() {
  const r = await sql<{
    changes: number;
    history: number;
    residents: number;
    outbox: number;
    households: number;
  }>`
    SELECT (SELECT count(*) FROM change)::int AS changes,
           (SELECT count(*) FROM resident_history)::int AS history,
           (SELECT count(*) FROM resident)::int AS residents,
           (SELECT count(*) FROM outbox)::int AS outbox,
           (SELECT count(*) FROM household)::int AS households`.execute(handle.db);
  return r.rows[0]!;
}

/** Expects a refusal with this code, and that nothing at all was written. */
async function expectRefusal(work: () => Promise<unknown>, code: string): Promise<DomainError> {
  const before = await counts();
  const error = await work().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected refusal ${code}`).toBeInstanceOf(DomainError);
  const e = error as DomainError;
  expect(e.code).toBe(code);
  expect(e.message).toMatch(/[ぁ-んァ-ン一-龥]/);
  expect(await counts()).toEqual(before);
  return e;
}

function pno(result: ChangeResult, i = 0): string {
  return result.persons[i]!.personNo;
}

async function family() {
  return changes.moveIn(
    actor,
    moveInOf([
      person({ relationship: '世帯主' }),
      person({ relationship: '妻', sex: 'female', name: { family: '山田', given: '花子' } }),
      person({ relationship: '子', birthDate: '2015-06-01', name: { family: '山田', given: '一郎' } }),
    ]),
  );
}

describe('entries', () => {
  it('moves a family of three in as a new household, with history, change row and outbox', async () => {
    const r = await family();
    expect(r.kind).toBe('entry');
    expect(r.reason).toBe('domesticMoveIn');
    expect(r.persons.map((p) => p.historySeq)).toEqual([1, 1, 1]);
    const h = await residents.household(actor, r.householdNos[0]!, FULL_VIEW);
    expect(h.members.map((m) => m.relationship)).toEqual(['世帯主', '妻', '子']);
    expect(h.head?.personNo).toBe(pno(r));
    const inquiry = await residents.inquire(actor, pno(r, 2), FULL_VIEW);
    expect(inquiry.current.status).toBe('current');
    expect(inquiry.current.residentSince).toBe('2026-11-20');
    expect(inquiry.history).toHaveLength(1);
    expect(inquiry.history[0]).toMatchObject({
      reason: 'domesticMoveIn',
      effectiveDate: '2026-11-20',
      processedOn: '2026-11-26',
      notifiedOn: '2026-11-25',
      staffId: 'staff-001',
      terminalId: 'T-01',
    });
    const outbox = await handle.db
      .selectFrom('outbox')
      .select(['topic', 'aggregate_key'])
      .where(sql<number>`(payload->>'changeId')::int`, '=', r.changeId)
      .execute();
    expect(outbox.filter((m) => m.topic === 'juki.identityInfo')).toHaveLength(3);
    expect(outbox.filter((m) => m.topic === 'registry.changed')).toHaveLength(3);
  });

  it('moves a foreign resident in from abroad with the art. 30-45 items', async () => {
    const r = await changes.moveIn(
      actor,
      moveInOf([foreignPerson()], {
        origin: 'abroad',
        previousAddress: { text: 'アメリカ合衆国', abroad: true },
      }),
    );
    expect(r.reason).toBe('moveInFromAbroad');
    const p = await residents.inquire(actor, pno(r), FULL_VIEW);
    expect(p.current.kind).toBe('foreign');
    expect(p.current.foreign?.status.category).toBe('midLongTerm');
    expect(p.current.foreign?.latinName).toBe('SMITH JOHN');
  });

  it('joins a person to an existing household', async () => {
    const f = await family();
    const r = await changes.moveIn(
      actor,
      moveInOf([person({ relationship: '母', sex: 'female', birthDate: '1950-01-01' })], {
        household: { mode: 'join', householdNo: f.householdNos[0]! },
      }),
    );
    expect(r.householdNos).toEqual(f.householdNos);
    const h = await residents.household(actor, f.householdNos[0]!, FULL_VIEW);
    expect(h.members.map((m) => m.relationship)).toEqual(['世帯主', '妻', '子', '母']);
    expect(h.members.map((m) => m.order)).toEqual([1, 2, 3, 4]);
  });

  it('enters a birth into the household at its address', async () => {
    const f = await family();
    const r = await changes.birth(actor, {
      effectiveDate: '2026-11-10',
      notifiedOn: '2026-11-24',
      householdNo: f.householdNos[0]!,
      child: person({
        relationship: '子',
        birthDate: '令和8年11月10日',
        name: { family: '山田', given: '二郎' },
      }),
    });
    expect(r.reason).toBe('birth');
    const child = await residents.inquire(actor, pno(r), FULL_VIEW);
    expect(child.current.birthDate).toEqual({ kind: 'exact', date: '2026-11-10' });
    expect(child.current.address.text).toBe('架空市中央区本町一丁目2番3号');
    expect(child.current.previousAddress).toBeUndefined();
  });

  it('enters a person ex officio', async () => {
    const r = await changes.exOfficioEntry(actor, {
      effectiveDate: '2026-11-01',
      address: ADDRESS_2,
      household: { mode: 'new' },
      members: [person()],
    });
    expect(r.reason).toBe('exOfficioEntry');
    expect(r.kind).toBe('entry');
  });
});

describe('moves', () => {
  it('moves a whole household within the city, keeping its number', async () => {
    const f = await family();
    const r = await changes.moveWithin(actor, moveWithinOf(f.persons.map((p) => p.personNo)));
    expect(r.householdNos).toEqual(f.householdNos);
    const p = await residents.inquire(actor, pno(f), FULL_VIEW);
    expect(p.current.address).toEqual(ADDRESS_2);
    expect(p.current.addressSetOn).toBe('2026-11-22');
    expect(p.current.previousAddress?.text).toBe('架空市中央区本町一丁目2番3号');
    expect(p.history.map((h) => h.reason)).toEqual(['domesticMoveIn', 'moveWithin']);
  });

  it('moves some members into a new household, re-setting relationships', async () => {
    const f = await family();
    const child = pno(f, 2);
    const r = await changes.moveWithin(actor, {
      effectiveDate: '2026-11-22',
      notifiedOn: '2026-11-26',
      personNos: [child],
      address: ADDRESS_2,
      household: { mode: 'new', relationships: [{ personNo: child, relationship: '世帯主' }] },
    });
    expect(r.householdNos).toHaveLength(1);
    expect(r.householdNos[0]).not.toBe(f.householdNos[0]);
    const moved = await residents.household(actor, r.householdNos[0]!, FULL_VIEW);
    expect(moved.head?.personNo).toBe(child);
    const left = await residents.household(actor, f.householdNos[0]!, FULL_VIEW);
    expect(left.members).toHaveLength(2);
  });

  it('refuses a partial move without a household for the movers', async () => {
    const f = await family();
    await expectRefusal(
      () =>
        changes.moveWithin(actor, {
          effectiveDate: '2026-11-22',
          notifiedOn: '2026-11-26',
          personNos: [pno(f, 2)],
          address: ADDRESS_2,
          household: { mode: 'same' },
        }),
      'PARTIAL_MOVE_NEEDS_HOUSEHOLD',
    );
  });

  it('refuses movers of two households together, and a person not on the register', async () => {
    const [a, b] = [await family(), await family()];
    const within = (personNos: string[]) => () =>
      changes.moveWithin(actor, {
        effectiveDate: '2026-11-22',
        notifiedOn: '2026-11-26',
        personNos,
        address: ADDRESS_2,
        household: {
          mode: 'new',
          relationships: personNos.map((p) => ({ personNo: p, relationship: '世帯主' })),
        },
      });
    await expectRefusal(within([pno(a, 2), pno(b, 2)]), 'MIXED_HOUSEHOLDS');
    await expectRefusal(within([pno(a, 2), personNoFromSerial(999_999_999)]), 'PERSON_NOT_FOUND');
  });

  it('moves a person out at once when the planned date has passed, with move-out certificate data', async () => {
    const f = await family();
    const r = await changes.moveOut(actor, {
      notifiedOn: '2026-11-26',
      plannedDate: '2026-11-25',
      personNos: [pno(f, 2)],
      destination: { text: '大阪府大阪市北区梅田1丁目1番1号', abroad: false },
    });
    expect(r.kind).toBe('removal');
    expect(r.reason).toBe('domesticMoveOut');
    const p = await residents.inquire(actor, pno(f, 2), FULL_VIEW);
    expect(p.current.status).toBe('movedOut');
    expect(p.removed).toBe(true);
    expect(p.current.removal?.effectiveDate).toBe('2026-11-25');
    const cert = await residents.moveOutCertificate(actor, pno(f, 2), FULL_VIEW);
    expect(cert.destination.text).toBe('大阪府大阪市北区梅田1丁目1番1号');
    expect(cert.householdHead).toMatch(/^山田　太郎\d+$/);
    expect(cert.plannedDate).toBe('2026-11-25');
  });

  it('keeps a planned mover current until the planned date, then removes them', async () => {
    const f = await family();
    const mover = pno(f, 1);
    const r = await changes.moveOut(actor, {
      notifiedOn: '2026-11-26',
      plannedDate: '2026-12-05',
      personNos: [mover],
      destination: { text: '福岡県福岡市中央区天神1丁目1番1号', abroad: false },
    });
    expect(r.reason).toBe('plannedMoveOut');
    let p = await residents.inquire(actor, mover, FULL_VIEW);
    expect(p.current.status).toBe('current');
    expect(p.current.plannedMoveOut?.plannedDate).toBe('2026-12-05');
    expect((await residents.moveOutCertificate(actor, mover, FULL_VIEW)).plannedDate).toBe('2026-12-05');

    const later = changes;
    expect(await later.completeDueMoveOuts(actor)).toEqual([]);
    clock.setDay('2026-12-05');
    try {
      const done = await later.completeDueMoveOuts(actor);
      expect(done.map((d) => d.persons[0]!.personNo)).toContain(mover);
      p = await residents.inquire(actor, mover, FULL_VIEW);
      expect(p.current.status).toBe('movedOut');
      expect(p.current.removal?.effectiveDate).toBe('2026-12-05');
    } finally {
      clock.setDay('2026-11-26');
    }
  });

  it('removes a planned mover on the earlier move-in date reported by the new municipality', async () => {
    const f = await family();
    const mover = pno(f, 1);
    await changes.moveOut(actor, {
      notifiedOn: '2026-11-20',
      plannedDate: '2026-12-10',
      personNos: [mover],
      destination: { text: '福岡県福岡市中央区天神1丁目1番1号', abroad: false },
    });
    const r = await changes.recordMoveInNotice(actor, { personNo: mover, moveInDate: '2026-11-24' });
    expect(r.effectiveDate).toBe('2026-11-24');
    const p = await residents.inquire(actor, mover, FULL_VIEW);
    expect(p.current.status).toBe('movedOut');
    expect(p.current.removal?.effectiveDate).toBe('2026-11-24');
    expect(p.current.plannedMoveOut?.moveInNoticeDate).toBe('2026-11-24');
  });

  it('moves a removal already made on the planned date back to an earlier move-in date', async () => {
    const f = await family();
    const mover = pno(f, 2);
    await changes.moveOut(actor, {
      notifiedOn: '2026-11-20',
      plannedDate: '2026-11-25',
      personNos: [mover],
      destination: { text: '福岡県福岡市中央区天神1丁目1番1号', abroad: false },
    });
    const r = await changes.recordMoveInNotice(actor, { personNo: mover, moveInDate: '2026-11-23' });
    expect(r.reason).toBe('moveInNoticeReceived');
    const p = await residents.inquire(actor, mover, FULL_VIEW);
    expect(p.current.removal?.effectiveDate).toBe('2026-11-23');
  });
});

describe('household changes', () => {
  it('splits a member into a new household', async () => {
    const f = await family();
    const child = pno(f, 2);
    const r = await changes.householdSplit(actor, {
      effectiveDate: '2026-11-26',
      notifiedOn: '2026-11-26',
      householdNo: f.householdNos[0]!,
      members: [{ personNo: child, relationship: '世帯主' }],
    });
    expect(r.reason).toBe('householdSplit');
    const split = await residents.inquire(actor, child, FULL_VIEW);
    expect(split.current.householdNo).not.toBe(f.householdNos[0]);
    expect(split.current.relationship).toBe('世帯主');
    expect(split.current.address).toEqual(
      (await residents.inquire(actor, pno(f), FULL_VIEW)).current.address,
    );
  });

  it('merges one household into another', async () => {
    const a = await family();
    const b = await changes.moveIn(
      actor,
      moveInOf([person({ relationship: '世帯主', birthDate: '1955-03-03' })]),
    );
    const r = await changes.householdMerge(actor, {
      effectiveDate: '2026-11-26',
      notifiedOn: '2026-11-26',
      fromHouseholdNo: b.householdNos[0]!,
      intoHouseholdNo: a.householdNos[0]!,
      relationships: [{ personNo: pno(b), relationship: '父' }],
    });
    expect(r.reason).toBe('householdMerge');
    const h = await residents.household(actor, a.householdNos[0]!, FULL_VIEW);
    expect(h.members.map((m) => m.relationship)).toEqual(['世帯主', '妻', '子', '父']);
    expect((await residents.household(actor, b.householdNos[0]!, FULL_VIEW)).members).toEqual([]);
  });

  it('changes the head, re-setting every relationship', async () => {
    const f = await family();
    const [head, wife, child] = f.persons.map((p) => p.personNo);
    await changes.headChange(actor, {
      effectiveDate: '2026-11-26',
      notifiedOn: '2026-11-26',
      householdNo: f.householdNos[0]!,
      relationships: [
        { personNo: wife!, relationship: '世帯主' },
        { personNo: head!, relationship: '夫' },
        { personNo: child!, relationship: '子' },
      ],
    });
    const h = await residents.household(actor, f.householdNos[0]!, FULL_VIEW);
    expect(h.head?.personNo).toBe(wife);
    expect(h.members.find((m) => m.personNo === head)?.relationship).toBe('夫');
  });
});

describe('removals and corrections', () => {
  it('records a death with an uncertain date; the household may be left without a head', async () => {
    const f = await family();
    const r = await changes.death(actor, {
      effectiveDate: '2026-11-20',
      notifiedOn: '2026-11-25',
      personNo: pno(f),
      deathDate: '令和8年11月中旬',
    });
    expect(r.reason).toBe('death');
    const p = await residents.inquire(actor, pno(f), FULL_VIEW);
    expect(p.current.status).toBe('dead');
    expect(p.current.removal?.deathDate).toMatchObject({ kind: 'approximate', text: '令和8年11月中旬' });
    const h = await residents.household(actor, f.householdNos[0]!, FULL_VIEW);
    expect(h.head).toBeUndefined();
    expect(h.members).toHaveLength(2);
    expect(h.formerMembers.map((m) => m.personNo)).toEqual([pno(f)]);
  });

  it('removes a person ex officio', async () => {
    const f = await family();
    await changes.exOfficioRemoval(actor, {
      effectiveDate: '2026-11-26',
      personNo: pno(f, 2),
      ground: '実態調査により居住の事実なし',
    });
    expect((await residents.inquire(actor, pno(f, 2), FULL_VIEW)).current.status).toBe('removedExOfficio');
  });

  it.each(['minorCorrection', 'clericalErrorCorrection', 'exOfficioCorrection'] as const)(
    'applies a %s to the record items',
    async (kind) => {
      const f = await family();
      const r = await changes.correct(actor, {
        effectiveDate: '2026-11-26',
        personNo: pno(f, 1),
        kind,
        patch: { name: { family: '山田', given: '華子' }, address: { ...ADDRESS_2, katagaki: '2階' } },
      });
      expect(r.reason).toBe(kind);
      expect(r.kind).toBe('correction');
      const p = await residents.inquire(actor, pno(f, 1), FULL_VIEW);
      expect(p.current.name?.given).toBe('華子');
      expect(p.history.at(0)?.record.name?.given).toBe('花子');
    },
  );

  it('changes a My Number and enters and deletes a former surname', async () => {
    const f = await family();
    const wife = pno(f, 1);
    await changes.changeMyNumber(actor, {
      effectiveDate: '2026-11-26',
      personNo: wife,
      myNumber: '621498320257',
      basis: 'request',
    });
    expect((await residents.inquire(actor, wife, FULL_VIEW)).current.myNumber).toBe('621498320257');
    await changes.formerSurname(actor, {
      action: 'enter',
      effectiveDate: '2026-11-26',
      personNo: wife,
      surname: '佐藤',
      reading: 'サトウ',
    });
    expect((await residents.inquire(actor, wife, FULL_VIEW)).current.formerSurname?.surname).toBe('佐藤');
    await changes.formerSurname(actor, { action: 'delete', effectiveDate: '2026-11-26', personNo: wife });
    const p = await residents.inquire(actor, wife, FULL_VIEW);
    expect(p.current.formerSurname).toBeUndefined();
    expect(p.history.map((h) => h.reason)).toEqual([
      'domesticMoveIn',
      'myNumberChangeOnRequest',
      'formerSurnameEntered',
      'formerSurnameDeleted',
    ]);
  });

  it('enters and deletes an alias of a foreign resident, keeping the alias history', async () => {
    const r = await changes.moveIn(actor, moveInOf([foreignPerson()]));
    const p = pno(r);
    await changes.alias(actor, {
      action: 'enter',
      effectiveDate: '2026-11-26',
      personNo: p,
      name: '須美寿　譲',
      reading: 'スミス　ジョウ',
    });
    expect((await residents.inquire(actor, p, FULL_VIEW)).current.foreign?.alias?.name).toBe('須美寿　譲');
    await changes.alias(actor, { action: 'delete', effectiveDate: '2026-11-26', personNo: p });
    const after = (await residents.inquire(actor, p, FULL_VIEW)).current.foreign!;
    expect(after.alias).toBeUndefined();
    expect(after.aliasHistory).toEqual([
      expect.objectContaining({
        name: '須美寿　譲',
        enteredOn: '2026-11-26',
        deletedOn: '2026-11-26',
        enteredBy: TEST_LG_CODE,
      }),
    ]);
  });
});

describe('cancellation', () => {
  it('cancels a correction by appending the earlier snapshot; both stay in the history', async () => {
    const f = await family();
    const c = await changes.correct(actor, {
      effectiveDate: '2026-11-26',
      personNo: pno(f),
      kind: 'clericalErrorCorrection',
      patch: { birthDate: '1981-05-05' },
    });
    const r = await changes.cancel(actor, { changeId: c.changeId });
    expect(r.reason).toBe('correctionCancelled');
    const p = await residents.inquire(actor, pno(f), FULL_VIEW);
    expect(p.current.birthDate).toEqual({ kind: 'exact', date: '1980-05-05' });
    expect(p.history.map((h) => h.historySeq)).toEqual([1, 2, 3]);
    expect(p.history[1]).toMatchObject({ changeId: c.changeId, cancelledByChangeId: r.changeId });
    expect(p.history[2]).toMatchObject({ cancelsChangeId: c.changeId });
  });

  it('cancels an entry: the person becomes a removed record, not deleted', async () => {
    const r = await changes.moveIn(actor, moveInOf([person()]));
    const c = await changes.cancel(actor, { changeId: r.changeId });
    expect(c.kind).toBe('removal');
    const p = await residents.inquire(actor, pno(r), FULL_VIEW);
    expect(p.current.status).toBe('entryCancelled');
    expect(p.history).toHaveLength(2);
  });

  it('refuses to cancel a change that a later change depends on, then cancels in order', async () => {
    const f = await family();
    const c1 = await changes.correct(actor, {
      effectiveDate: '2026-11-26',
      personNo: pno(f),
      kind: 'minorCorrection',
      patch: { remarks: '一回目' },
    });
    const c2 = await changes.correct(actor, {
      effectiveDate: '2026-11-26',
      personNo: pno(f),
      kind: 'minorCorrection',
      patch: { remarks: '二回目' },
    });
    await expectRefusal(() => changes.cancel(actor, { changeId: c1.changeId }), 'LATER_CHANGE_DEPENDS');
    await changes.cancel(actor, { changeId: c2.changeId });
    // The cancellation of c2 is itself a later snapshot, so c1 still cannot be cancelled underneath it.
    await expectRefusal(() => changes.cancel(actor, { changeId: c1.changeId }), 'LATER_CHANGE_DEPENDS');
    await expectRefusal(() => changes.cancel(actor, { changeId: c2.changeId }), 'ALREADY_CANCELLED');
  });

  it('refuses to cancel a cancellation, and an unknown change', async () => {
    const r = await changes.moveIn(actor, moveInOf([person()]));
    const c = await changes.cancel(actor, { changeId: r.changeId });
    await expectRefusal(() => changes.cancel(actor, { changeId: c.changeId }), 'CANNOT_CANCEL_CANCELLATION');
    await expectRefusal(() => changes.cancel(actor, { changeId: 99_999_999 }), 'CHANGE_NOT_FOUND');
  });
});

describe('refusals leave nothing written', () => {
  it('refuses moving out a person already removed', async () => {
    const f = await family();
    await changes.death(actor, { effectiveDate: '2026-11-26', personNo: pno(f, 2), deathDate: '2026-11-26' });
    await expectRefusal(
      () =>
        changes.moveOut(actor, {
          notifiedOn: '2026-11-26',
          plannedDate: '2026-11-26',
          personNos: [pno(f, 2)],
          destination: { text: '大阪府大阪市', abroad: false },
        }),
      'ALREADY_REMOVED',
    );
  });

  it('refuses a future effective date, but accepts a future planned move-out', async () => {
    await expectRefusal(
      () => changes.moveIn(actor, moveInOf([person()], { effectiveDate: '2026-11-27' })),
      'FUTURE_EFFECTIVE_DATE',
    );
    const f = await family();
    await expectRefusal(
      () => changes.death(actor, { effectiveDate: '2026-12-01', personNo: pno(f), deathDate: '2026-12-01' }),
      'FUTURE_EFFECTIVE_DATE',
    );
    const r = await changes.moveOut(actor, {
      notifiedOn: '2026-11-26',
      plannedDate: '2027-01-15',
      personNos: [pno(f, 2)],
      destination: { text: '大阪府大阪市', abroad: false },
    });
    expect(r.effectiveDate).toBe('2027-01-15');
  });

  it('refuses two heads in a household', async () => {
    await expectRefusal(
      () =>
        changes.moveIn(
          actor,
          moveInOf([person({ relationship: '世帯主' }), person({ relationship: '世帯主' })]),
        ),
      'TWO_HEADS',
    );
    const f = await family();
    await expectRefusal(
      () =>
        changes.moveIn(
          actor,
          moveInOf([person({ relationship: '世帯主' })], {
            household: { mode: 'join', householdNo: f.householdNos[0]! },
          }),
        ),
      'TWO_HEADS',
    );
    await expectRefusal(
      () =>
        changes.headChange(actor, {
          effectiveDate: '2026-11-26',
          householdNo: f.householdNos[0]!,
          relationships: f.persons.map((p, i) => ({
            personNo: p.personNo,
            relationship: i < 2 ? '世帯主' : '子',
          })),
        }),
      'TWO_HEADS',
    );
  });

  it('refuses a new household without a head', async () => {
    await expectRefusal(
      () => changes.moveIn(actor, moveInOf([person({ relationship: '妻' })])),
      'HEAD_REQUIRED',
    );
  });

  it('refuses a cancellation that would restore a second head', async () => {
    const f = await family();
    const death = await changes.death(actor, {
      effectiveDate: '2026-11-26',
      personNo: pno(f),
      deathDate: '2026-11-26',
    });
    await changes.headChange(actor, {
      effectiveDate: '2026-11-26',
      householdNo: f.householdNos[0]!,
      relationships: [
        { personNo: pno(f, 1), relationship: '世帯主' },
        { personNo: pno(f, 2), relationship: '子' },
      ],
    });
    await expectRefusal(() => changes.cancel(actor, { changeId: death.changeId }), 'TWO_HEADS');
  });

  it('refuses a member in two households: a person already registered cannot enter again', async () => {
    const first = person();
    await changes.moveIn(actor, moveInOf([first]));
    await expectRefusal(
      () =>
        changes.moveIn(
          actor,
          moveInOf([person(), { ...person({ relationship: '子' }), myNumber: first.myNumber }]),
        ),
      'ALREADY_REGISTERED',
    );
  });

  it('refuses a member of another household in a household change', async () => {
    const a = await family();
    const b = await family();
    await expectRefusal(
      () =>
        changes.householdSplit(actor, {
          effectiveDate: '2026-11-26',
          householdNo: a.householdNos[0]!,
          members: [{ personNo: pno(b, 2), relationship: '世帯主' }],
        }),
      'NOT_A_MEMBER',
    );
  });

  it('refuses wrong check digits', async () => {
    await expectRefusal(
      () => changes.moveIn(actor, moveInOf([person({ myNumber: '621498320258' })])),
      'INVALID_MY_NUMBER',
    );
    await expectRefusal(
      () => changes.moveIn(actor, moveInOf([person({ residentCode: '12345678901' })])),
      'INVALID_RESIDENT_CODE',
    );
    await expectRefusal(
      () =>
        changes.death(actor, {
          effectiveDate: '2026-11-26',
          personNo: '0000000012',
          deathDate: '2026-11-26',
        }),
      'INVALID_PERSON_NO',
    );
  });

  it('refuses a relationship outside the vocabulary, and accepts its chain form', async () => {
    const f = await family();
    const e = await expectRefusal(
      () =>
        changes.birth(actor, {
          effectiveDate: '2026-11-26',
          notifiedOn: '2026-11-26',
          householdNo: f.householdNos[0]!,
          child: person({ relationship: '孫', birthDate: '2026-11-26' }),
        }),
      'INVALID_RELATIONSHIP',
    );
    expect(e.message).toContain('子の子');
    const r = await changes.birth(actor, {
      effectiveDate: '2026-11-26',
      notifiedOn: '2026-11-26',
      householdNo: f.householdNos[0]!,
      child: person({ relationship: '子の子', birthDate: '2026-11-26' }),
    });
    expect((await residents.inquire(actor, pno(r), FULL_VIEW)).current.relationship).toBe('子の子');
  });

  it('refuses foreign-resident items on a Japanese resident', async () => {
    const foreignItems = foreignPerson().foreign;
    await expectRefusal(
      () => changes.moveIn(actor, moveInOf([person({ foreign: foreignItems })])),
      'FOREIGN_ITEM_ON_JAPANESE',
    );
    const f = await family();
    await expectRefusal(
      () =>
        changes.alias(actor, {
          action: 'enter',
          effectiveDate: '2026-11-26',
          personNo: pno(f),
          name: '通称',
        }),
      'FOREIGN_ITEM_ON_JAPANESE',
    );
    await expectRefusal(
      () =>
        changes.correct(actor, {
          effectiveDate: '2026-11-26',
          personNo: pno(f),
          kind: 'minorCorrection',
          patch: { foreign: foreignItems },
        }),
      'FOREIGN_ITEM_ON_JAPANESE',
    );
  });

  it('refuses a 本籍 on a foreign resident', async () => {
    await expectRefusal(
      () => changes.moveIn(actor, moveInOf([foreignPerson({ honseki: { kind: 'unknown' } })])),
      'JAPANESE_ITEM_ON_FOREIGN',
    );
  });

  it('rolls back a whole multi-person change when its last member is refused', async () => {
    const taken = person();
    await changes.moveIn(actor, moveInOf([taken]));
    // Serial counters roll back too: the next person gets the number the refused one would have had.
    await expectRefusal(
      () =>
        changes.moveIn(
          actor,
          moveInOf([
            person(),
            person({ relationship: '妻' }),
            { ...person({ relationship: '子' }), residentCode: taken.residentCode },
          ]),
        ),
      'ALREADY_REGISTERED',
    );
  });

  it('treats a 住民票コード as taken only while a current record holds it', async () => {
    const first = person();
    const moved = await changes.moveIn(actor, moveInOf([first]));
    const replacement = person().residentCode!;
    await changes.correct(actor, {
      effectiveDate: '2026-11-26',
      personNo: moved.persons[0]!.personNo,
      kind: 'exOfficioCorrection',
      patch: { residentCode: replacement },
    });
    // Then a move within: its snapshot repeats both numbers and is in neither number index (0018).
    await changes.moveWithin(actor, moveWithinOf([moved.persons[0]!.personNo]));
    const flags = await handle.db
      .selectFrom('resident_history')
      .select('numbers_new')
      .where('person_no', '=', moved.persons[0]!.personNo)
      .orderBy('history_seq')
      .execute();
    expect(flags.map((f) => f.numbers_new)).toEqual([true, true, false]);
    // The new code and the 個人番号 are held by the current record; the old code only by an earlier
    // snapshot, so it is free.
    await expectRefusal(
      () => changes.moveIn(actor, moveInOf([{ ...person(), residentCode: replacement }])),
      'ALREADY_REGISTERED',
    );
    await expectRefusal(
      () => changes.moveIn(actor, moveInOf([{ ...person(), myNumber: first.myNumber }])),
      'ALREADY_REGISTERED',
    );
    await changes.moveIn(actor, moveInOf([{ ...person(), residentCode: first.residentCode }]));
  });
});

type HolderStep = (trx: Transaction<Database>) => Promise<unknown>;

/**
 * Another connection's transaction, held open (PostgreSQL only): it runs `first`, then waits for `proceed()`,
 * runs `then` and commits (`committed`).
 */
async function heldTransaction(
  first: HolderStep,
  then?: HolderStep,
): Promise<{ pid: number; proceed: () => void; committed: Promise<void> }> {
  let proceed!: () => void;
  const proceeding = new Promise<void>((resolve) => (proceed = resolve));
  let pid!: number;
  let holding!: () => void;
  const isHolding = new Promise<void>((resolve) => (holding = resolve));
  const committed = handle.db.transaction().execute(async (trx) => {
    pid = (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx)).rows[0]!.pid;
    await first(trx);
    holding();
    await proceeding;
    await then?.(trx);
  });
  await isHolding;
  return { pid, proceed, committed };
}

/** The backend waiting for the transaction of `pid`, polled for up to five seconds. */
async function waiterOf(pid: number): Promise<number | undefined> {
  for (let i = 0; i < 500; i += 1) {
    const { rows } = await sql<{ pid: number }>`
      SELECT pid FROM pg_stat_activity WHERE ${pid}::int = ANY(pg_blocking_pids(pid))`.execute(handle.db);
    if (rows[0]) return rows[0].pid;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

describe.runIf(process.env['DATABASE_URL'])('numbering on PostgreSQL', () => {
  const lastPersonSerial = async () =>
    Number(
      (
        await handle.db
          .selectFrom('number_counter')
          .select('last_value')
          .where('lg_code', '=', TEST_LG_CODE)
          .where('kind', '=', 'person')
          .executeTakeFirstOrThrow()
      ).last_value,
    );

  it('commits a change’s numbers at once, so the counter is not held through its commit', async () => {
    await changes.moveIn(actor, moveInOf([person()]));
    const before = await lastPersonSerial();
    const rowsBefore = await counts();
    // Another transaction holds every lane of the municipality's access log, one of which a change takes last.
    const holder = await heldTransaction((trx) => holdEveryLane(trx, TEST_LG_CODE));
    const blocked = changes.moveIn(actor, moveInOf([person()])).then(
      () => 'committed',
      (e: unknown) => e,
    );
    // Wait until the move-in queues behind the holder, then look at the counter from outside.
    const waiting = await waiterOf(holder.pid);
    expect(waiting, 'the move-in waits for a lane of the access log').toBeDefined();
    // Its 宛名番号 is already taken and committed, though the move-in itself has not committed.
    expect(await lastPersonSerial()).toBe(before + 1);
    // Cancelled there, the move-in rolls back; the number it took stays taken (a gap) and nothing else stays.
    await sql`SELECT pg_cancel_backend(${waiting}::int)`.execute(handle.db);
    expect(await blocked).toBeInstanceOf(Error);
    holder.proceed();
    await holder.committed;
    expect(await counts()).toEqual(rowsBefore);
    const next = await changes.moveIn(actor, moveInOf([person()]));
    expect(next.persons[0]!.personNo).toBe(personNoFromSerial(before + 2));
  });
});

describe.runIf(process.env['DATABASE_URL'])('moving a household on PostgreSQL', () => {
  /**
   * Runs `work` while another transaction holds the household: that transaction locks the household, runs
   * `first`, waits until `work` waits for it, runs `then` and commits.
   */
  const whileHouseholdHeld = async <T>(
    householdNo: string,
    holderSteps: { first?: HolderStep; then?: HolderStep },
    work: () => Promise<T>,
  ): Promise<T> => {
    const holder = await heldTransaction(async (trx) => {
      await lockHousehold(trx, TEST_LG_CODE, householdNo);
      await holderSteps.first?.(trx);
    }, holderSteps.then);
    const done = work().then(
      (r) => ({ r }),
      (e: unknown) => ({ e }),
    );
    expect(await waiterOf(holder.pid), 'the change waits for the household').toBeDefined();
    holder.proceed();
    await holder.committed;
    const outcome = await done;
    if ('e' in outcome) throw outcome.e;
    return outcome.r;
  };
  /** Then the household's members, as a 出生 into the household locks them after the household. */
  const birthOrder = (householdNo: string) => ({
    then: (trx: Transaction<Database>) =>
      findHouseholdMembers(trx, TEST_LG_CODE, householdNo, { forUpdate: true }),
  });
  const moveWhole = (f: ChangeResult) =>
    changes.moveWithin(actor, moveWithinOf(f.persons.map((p) => p.personNo)));

  // Had the change locked persons before their household, it and the holder would each wait for the other
  // (a deadlock, which PostgreSQL breaks by failing one of them).
  it('a move within takes the household before its members: no deadlock with a 出生', async () => {
    const f = await family();
    const h = f.householdNos[0]!;
    const r = await whileHouseholdHeld(h, birthOrder(h), () => moveWhole(f));
    expect(r.householdNos).toEqual(f.householdNos);
  });

  it('a change of one person takes the household before the person: no deadlock with a 出生', async () => {
    const f = await family();
    const h = f.householdNos[0]!;
    const r = await whileHouseholdHeld(h, birthOrder(h), () =>
      changes.death(actor, { effectiveDate: '2026-11-26', personNo: pno(f, 2), deathDate: '2026-11-26' }),
    );
    expect(r.persons.map((p) => p.personNo)).toEqual([pno(f, 2)]);
  });

  // Had the move locked its own household before the one it joins, it would hold the later household and
  // wait for the earlier, while the holder (an opposite move, in household order) holds the earlier and
  // then asks for the later: a deadlock.
  it('a move into another household locks both in household order: no deadlock with the opposite move', async () => {
    const [earlier, later] = [await family(), await family()];
    const [a, b] = [earlier.householdNos[0]!, later.householdNos[0]!];
    expect(a < b).toBe(true);
    const lockLater = { then: (trx: Transaction<Database>) => lockHousehold(trx, TEST_LG_CODE, b) };
    const r = await whileHouseholdHeld(a, lockLater, () =>
      changes.moveWithin(
        actor,
        moveWithinOf([pno(later, 2)], {
          household: {
            mode: 'join',
            householdNo: a,
            relationships: [{ personNo: pno(later, 2), relationship: '同居人' }],
          },
        }),
      ),
    );
    expect(r.householdNos).toEqual([a]);
  });

  it('locks the household before reading its members, and sees a member added while it waited', async () => {
    const [f, other] = [await family(), await family()];
    const h = f.householdNos[0]!;
    // The holder puts a fourth person in the household (as a 転入 into it would); the move is of the
    // three persons the household had, as if the whole household.
    const joins = (trx: Transaction<Database>) =>
      sql`UPDATE resident SET household_no = ${h}, household_order = 9
           WHERE lg_code = ${TEST_LG_CODE} AND person_no = ${pno(other, 2)}`.execute(trx);
    // Its members, read after the wait, include the fourth person, who is not moving: a partial move.
    await expectRefusal(
      () => whileHouseholdHeld(h, { first: joins }, () => moveWhole(f)),
      'PARTIAL_MOVE_NEEDS_HOUSEHOLD',
    );
  });
});
