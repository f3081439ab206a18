/**
 * Suppression (抑止) enforced inside the register's services, not only in the UI: change entry and inquiry
 * are blocked (error) or need the clerk's confirmation (alert), and search results and inquiry show it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { SuppressionService } from '../protection/index.js';
import type { FixedClock } from '../shared/index.js';
import type { ChangeService } from './change.service.js';
import { ensureMunicipality } from './resident.repository.js';
import type { ResidentService } from './resident.service.js';
import { TEST_LG_CODE, actor, moveInOf, person, registryServices, testClock } from './testing.js';
import { testKeyring } from '../keys/testing.js';

let handle: DatabaseHandle;
let clock: FixedClock;
let changes: ChangeService;
let residents: ResidentService;
let suppressions: SuppressionService;
const PURPOSE = { purpose: '届出の受付' };

beforeAll(async () => {
  handle = await openTestDatabase();
  clock = testClock();
  const services = registryServices(handle, clock);
  ({ changes, residents } = services);
  suppressions = new SuppressionService(handle.db, {
    audit: { clock, monitoring: services.audit.monitoring },
    keyring: testKeyring(handle.db),
    suppressionReleaseMinutes: 30,
  });
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
});
afterAll(async () => {
  await handle.close();
});

async function family(): Promise<{ head: string; child: string; householdNo: string }> {
  const r = await changes.moveIn(
    actor,
    moveInOf([person({ relationship: '世帯主' }), person({ relationship: '子', birthDate: '2010-01-01' })]),
  );
  return { head: r.persons[0]!.personNo, child: r.persons[1]!.personNo, householdNo: r.householdNos[0]! };
}

function remarks(personNo: string, text: string, confirmSuppression?: boolean) {
  return {
    effectiveDate: '2026-11-26',
    personNo,
    kind: 'minorCorrection' as const,
    patch: { remarks: text },
    ...(confirmSuppression === undefined ? {} : { confirmSuppression }),
  };
}

describe('suppression in the register', () => {
  it('blocks change entry at the error level, for the person and for a whole household', async () => {
    const f = await family();
    await suppressions.set(actor, {
      target: { personNo: f.head },
      process: 'change',
      level: 'error',
      startsOn: '2026-11-01',
      reason: '調査中',
    });
    await expect(changes.correct(actor, remarks(f.head, 'x'))).rejects.toMatchObject({ code: 'SUPPRESSED' });
    await expect(changes.correct(actor, remarks(f.head, 'x', true))).rejects.toMatchObject({
      code: 'SUPPRESSED',
    });
    await changes.correct(actor, remarks(f.child, 'child is not suppressed'));

    await suppressions.set(actor, {
      target: { householdNo: f.householdNo },
      process: 'change',
      level: 'error',
      startsOn: '2026-11-01',
      reason: '世帯全体の調査',
    });
    await expect(changes.correct(actor, remarks(f.child, 'y'))).rejects.toMatchObject({ code: 'SUPPRESSED' });
  });

  it('lets an alert-level change through only after the clerk confirms', async () => {
    const f = await family();
    await suppressions.set(actor, {
      target: { personNo: f.head },
      process: 'change',
      level: 'alert',
      startsOn: '2026-11-01',
      reason: '要確認',
    });
    await expect(changes.correct(actor, remarks(f.head, 'x'))).rejects.toMatchObject({
      code: 'SUPPRESSION_CONFIRMATION_REQUIRED',
    });
    const r = await changes.correct(actor, remarks(f.head, 'confirmed', true));
    expect(r.persons[0]!.historySeq).toBe(2);
  });

  it('blocks inquiry when an inquiry suppression is in force, and shows suppressions in search and inquiry', async () => {
    const f = await family();
    await suppressions.set(actor, {
      target: { personNo: f.child },
      process: 'certificate',
      level: 'error',
      startsOn: '2026-11-01',
      reason: '交付抑止',
    });
    const seen = await residents.inquire(actor, f.child, PURPOSE);
    expect(seen.suppressions.map((s) => [s.process, s.level])).toEqual([['certificate', 'error']]);
    const hits = (await residents.search(actor, { householdNo: f.householdNo })).hits;
    expect(hits.find((h) => h.personNo === f.child)?.suppressions).toEqual([
      { process: 'certificate', level: 'error' },
    ]);
    expect(hits.find((h) => h.personNo === f.head)?.suppressions).toEqual([]);

    await suppressions.set(actor, {
      target: { personNo: f.head },
      process: 'inquiry',
      level: 'alert',
      startsOn: '2026-11-01',
      reason: '照会注意',
    });
    await expect(residents.inquire(actor, f.head, PURPOSE)).rejects.toMatchObject({
      code: 'SUPPRESSION_CONFIRMATION_REQUIRED',
    });
    const confirmed = await residents.inquire(actor, f.head, { ...PURPOSE, confirmSuppression: 'true' });
    expect(confirmed.suppressions.map((s) => s.process)).toEqual(['inquiry']);
  });

  it('lets the planned move-out batch complete a removal already entered', async () => {
    const f = await family();
    await changes.moveOut(actor, {
      notifiedOn: '2026-11-26',
      plannedDate: '2026-12-01',
      personNos: [f.child],
      destination: { text: '大阪府大阪市', abroad: false },
    });
    await suppressions.set(actor, {
      target: { personNo: f.child },
      process: 'change',
      level: 'error',
      startsOn: '2026-11-26',
      reason: '調査中',
    });
    const start = clock.now().toISOString();
    try {
      clock.setDay('2026-12-01');
      const done = await changes.completeDueMoveOuts(actor);
      expect(done.flatMap((d) => d.persons.map((p) => p.personNo))).toContain(f.child);
    } finally {
      clock.set(start);
    }
  });
});
