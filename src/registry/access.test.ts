/**
 * Access control inside the register's services: the edit lock, item masking and its reveal, the access
 * log written with each act (refusals too), search criteria kept out of the log, and the facts that make
 * monitoring raise alerts when a support-measure subject or the operator's own family is opened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAlerts, searchAccessLog } from '../audit/index.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { insertSupportMeasure } from '../protection/index.js';
import { DomainError, PERMISSIONS, type Actor, type FixedClock, type Permission } from '../shared/index.js';
import type { ChangeService } from './change.service.js';
import { ensureMunicipality } from './resident.repository.js';
import type { ResidentService } from './resident.service.js';
import { ADDRESS, TEST_LG_CODE, actor, moveInOf, person, registryServices, testClock } from './testing.js';

let handle: DatabaseHandle;
let clock: FixedClock;
let changes: ChangeService;
let residents: ResidentService;

const PURPOSE = { purpose: '届出の受付' };

function staff(
  staffId: string,
  permissions: readonly Permission[] = PERMISSIONS,
  profile?: Actor['profile'],
): Actor {
  return {
    lgCode: TEST_LG_CODE,
    staffId,
    terminalId: `T-${staffId}`,
    permissions: new Set(permissions),
    profile,
  };
}

beforeAll(async () => {
  handle = await openTestDatabase();
  clock = testClock();
  ({ changes, residents } = registryServices(handle, clock));
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
});
afterAll(async () => {
  await handle.close();
});

async function newPerson(overrides: Parameters<typeof person>[0] = {}): Promise<string> {
  const r = await changes.moveIn(actor, moveInOf([person(overrides)]));
  return r.persons[0]!.personNo;
}

function correction(personNo: string, remarks: string) {
  return { effectiveDate: '2026-11-26', personNo, kind: 'minorCorrection' as const, patch: { remarks } };
}

async function logOf(personNo: string) {
  return (await searchAccessLog(handle.db, TEST_LG_CODE, { personNo, pageSize: 100 })).entries;
}

describe('edit lock', () => {
  it('lets others only read while one staff member edits, and ends at commit', async () => {
    const p = await newPerson();
    const a = staff('clerk-a');
    const b = staff('clerk-b');
    await residents.lockForEdit(a, p);
    await expect(residents.lockForEdit(b, p)).rejects.toMatchObject({ code: 'LOCKED_BY_OTHER' });
    await expect(changes.correct(b, correction(p, 'B'))).rejects.toMatchObject({ code: 'LOCKED_BY_OTHER' });
    const seen = await residents.inquire(b, p, PURPOSE);
    expect(seen.editLock).toMatchObject({ staffId: 'clerk-a', mine: false });
    expect(seen.history).toHaveLength(1);

    await changes.correct(a, correction(p, 'A'));
    expect((await residents.inquire(b, p, PURPOSE)).editLock).toBeUndefined();
    await changes.correct(b, correction(p, 'B'));
    expect((await residents.inquire(b, p, PURPOSE)).current.remarks).toBe('B');
  });

  it('ends when the editor cancels', async () => {
    const p = await newPerson();
    await residents.lockForEdit(staff('clerk-a'), p);
    expect(await residents.releaseEdit(staff('clerk-a'), p)).toEqual({ released: true });
    await residents.lockForEdit(staff('clerk-b'), p);
    await residents.releaseEdit(staff('clerk-b'), p);
  });

  it('ends by itself after the timeout', async () => {
    const p = await newPerson();
    await residents.lockForEdit(staff('clerk-a'), p);
    const start = clock.now().toISOString();
    try {
      clock.set(new Date(clock.now().getTime() + 14 * 60_000).toISOString());
      await expect(residents.lockForEdit(staff('clerk-b'), p)).rejects.toMatchObject({
        code: 'LOCKED_BY_OTHER',
      });
      clock.set(new Date(clock.now().getTime() + 2 * 60_000).toISOString());
      await changes.correct(staff('clerk-b'), correction(p, 'after timeout'));
    } finally {
      clock.set(start);
    }
  });
});

describe('masking and the access log', () => {
  it('hides 個人番号, 住民票コード and 本籍 until a permitted staff member reveals them, logging it', async () => {
    const p = await newPerson();
    const clerk = staff('clerk-m', ['inquiry', 'change']);
    const plain = await residents.inquire(clerk, p, PURPOSE);
    expect(plain.current.myNumber).toBeUndefined();
    expect(plain.current.residentCode).toBeUndefined();
    expect(plain.current.honseki).toBeUndefined();
    expect(plain.history[0]!.record.myNumber).toBeUndefined();
    expect(plain.current.masked.sort()).toEqual(['honseki', 'myNumber', 'residentCode']);
    await expect(residents.inquire(clerk, p, { ...PURPOSE, reveal: ['myNumber'] })).rejects.toMatchObject({
      code: 'FORBIDDEN_ITEM',
    });

    const reviewer = staff('reviewer-m', ['inquiry', 'myNumberView']);
    const shown = await residents.inquire(reviewer, p, { ...PURPOSE, reveal: ['myNumber'] });
    expect(shown.current.myNumber).toMatch(/^\d{12}$/);
    expect(shown.current.residentCode).toBeUndefined();

    const log = await logOf(p);
    expect(log.find((e) => e.staffId === 'reviewer-m')).toMatchObject({
      function: 'reveal',
      myNumberAccessed: true,
      purpose: '届出の受付',
      outcome: 'success',
      targetPersons: [p],
    });
    expect(log.find((e) => e.staffId === 'clerk-m' && e.outcome === 'success')).toMatchObject({
      function: 'inquiry',
      myNumberAccessed: false,
    });
    expect(log.find((e) => e.staffId === 'clerk-m' && e.outcome === 'refused')?.details).toMatchObject({
      code: 'FORBIDDEN_ITEM',
    });
  });

  it('refuses an inquiry without a purpose from the list, and logs the refusal', async () => {
    const p = await newPerson();
    await expect(residents.inquire(staff('clerk-p'), p)).rejects.toMatchObject({ code: 'PURPOSE_REQUIRED' });
    await expect(residents.inquire(staff('clerk-p'), p, { purpose: 'なんとなく' })).rejects.toMatchObject({
      code: 'PURPOSE_REQUIRED',
    });
    const refused = await searchAccessLog(handle.db, TEST_LG_CODE, {
      staffId: 'clerk-p',
      outcome: 'refused',
    });
    expect(refused.total).toBe(2);
  });

  it('keeps names and numbers of search criteria out of the log', async () => {
    const searcher = staff('searcher');
    await residents.search(searcher, { name: '山田太郎', birthDate: '昭和55年5月5日', sex: 'male' });
    const [entry] = (await searchAccessLog(handle.db, TEST_LG_CODE, { staffId: 'searcher' })).entries;
    const stored = JSON.stringify(entry);
    expect(stored).not.toContain('山田');
    expect(stored).not.toContain('昭和55');
    expect(entry!.criteria).toMatchObject({ sex: 'male', name: expect.stringMatching(/^hmac:/) });
    await expect(
      residents.search(staff('clerk-s', ['inquiry']), { myNumber: '621498320257' }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('logs a change with its targets, and a refused change as refused', async () => {
    const p = await newPerson();
    await changes.correct(staff('clerk-c'), correction(p, 'x'));
    await expect(
      changes.death(staff('clerk-c'), { effectiveDate: '2099-01-01', personNo: p, deathDate: '2099-01-01' }),
    ).rejects.toBeInstanceOf(DomainError);
    await expect(changes.correct(staff('viewer', ['inquiry']), correction(p, 'y'))).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    const log = (await searchAccessLog(handle.db, TEST_LG_CODE, { function: 'change', pageSize: 100 }))
      .entries;
    expect(log.find((e) => e.staffId === 'clerk-c' && e.outcome === 'success')).toMatchObject({
      targetPersons: [p],
    });
    expect(log.find((e) => e.staffId === 'clerk-c' && e.outcome === 'refused')?.details).toMatchObject({
      code: 'FUTURE_EFFECTIVE_DATE',
    });
    expect(log.find((e) => e.staffId === 'viewer')?.details).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('monitoring facts', () => {
  it('raises an alert when a support-measure subject is opened, not otherwise', async () => {
    const subject = await newPerson();
    const other = await newPerson();
    await insertSupportMeasure(handle.db, {
      lgCode: TEST_LG_CODE,
      personNo: subject,
      status: 'active',
      startsOn: '2026-04-01',
      endsOn: '2027-03-31',
      createdBy: 'officer',
    });
    await residents.inquire(staff('nosy'), other, PURPOSE);
    expect((await listAlerts(handle.db, TEST_LG_CODE, { rule: 'supportMeasureSubject' })).total).toBe(0);
    await residents.inquire(staff('nosy'), subject, PURPOSE);
    const alerts = await listAlerts(handle.db, TEST_LG_CODE, { rule: 'supportMeasureSubject' });
    expect(alerts.alerts.map((a) => a.staffId)).toEqual(['nosy']);
  });

  it('raises an alert when the operator opens a record with their own surname and address', async () => {
    const relative = await newPerson({ name: { family: '鈴木', given: '一郎' } });
    const stranger = await newPerson({ name: { family: '佐藤', given: '次郎' } });
    const operator = staff('suzuki', PERMISSIONS, { familyName: '鈴木', address: ADDRESS.text });
    await residents.inquire(operator, stranger, PURPOSE);
    expect((await listAlerts(handle.db, TEST_LG_CODE, { rule: 'sameSurnameAndAddress' })).total).toBe(0);
    await residents.inquire(operator, relative, PURPOSE);
    const alerts = await listAlerts(handle.db, TEST_LG_CODE, { rule: 'sameSurnameAndAddress' });
    expect(alerts.alerts.map((a) => a.staffId)).toEqual(['suzuki']);
  });
});
