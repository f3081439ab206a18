/**
 * Suppression (抑止): each level, several at once, household-level suppressions, temporary release lapsing
 * by itself, release, end dates that do not lift, outbox messages for issuance suppressions only, separate
 * permissions, encrypted reasons and the access log.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import { FixedClock, householdNoFromSerial, personNoFromSerial } from '../shared/index.js';
import { ISSUANCE_SUPPRESSION_TOPIC, checkSuppression, suppressionsByPerson } from './index.js';
import type { SuppressionService } from './suppression.service.js';
import type { SuppressedProcess } from './suppression.js';
import {
  RELEASE_MINUTES,
  TEST_LG_CODE,
  everyPermission,
  household,
  outboxCount,
  protectionServices,
  refusal,
  staff,
} from './testing.js';

let handle: DatabaseHandle;
let suppressions: SuppressionService;
const clock = new FixedClock('2026-11-26T01:00:00Z');
const officer = everyPermission();
let family: { personNos: string[]; householdNo: string };
let single: { personNos: string[]; householdNo: string };

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
  await ensureMunicipality(handle.db, '131016', '隣接区');
  ({ suppressions } = protectionServices(handle.db, clock));
  family = await household(handle.db, clock, 2, '2026-11-20');
  single = await household(handle.db, clock, 1, '2026-11-20');
});
afterAll(async () => {
  await handle.close();
});

/** checkSuppression in a transaction of its own (a service would pass its own). */
function check(
  process: SuppressedProcess,
  target: { personNos?: string[]; householdNos?: string[] },
  confirmed?: boolean,
) {
  return handle.db.transaction().execute((trx) =>
    checkSuppression(
      trx,
      TEST_LG_CODE,
      {
        process,
        personNos: target.personNos ?? [],
        householdNos: target.householdNos ?? [],
        ...(confirmed === undefined ? {} : { confirmed }),
      },
      clock.now(),
      clock.today(),
    ),
  );
}

function advanceMinutes(minutes: number): void {
  clock.set(new Date(clock.now().getTime() + minutes * 60_000).toISOString());
}

describe('levels', () => {
  it('an error-level suppression blocks its process only', async () => {
    const hit = await suppressions.set(officer, {
      target: { personNo: family.personNos[0]! },
      process: 'change',
      level: 'error',
      startsOn: clock.today(),
      reason: '裁判所からの照会対応中',
    });
    const e = await refusal(check('change', { personNos: [family.personNos[0]!] }), 'SUPPRESSED');
    expect(e.message).toContain('異動の抑止（エラー）');
    expect(e.details).toEqual({
      suppressions: [{ suppressionId: hit.suppressionId, level: 'error', process: 'change' }],
    });
    // Even a confirmation does not pass an error.
    await refusal(check('change', { personNos: [family.personNos[0]!] }, true), 'SUPPRESSED');
    expect(await check('certificate', { personNos: [family.personNos[0]!] })).toEqual([]);
    expect(await check('change', { personNos: [family.personNos[1]!] })).toEqual([]);
  });

  it('an alert-level suppression asks for confirmation, then lets the clerk go on and reports it', async () => {
    const hit = await suppressions.set(officer, {
      target: { personNo: single.personNos[0]! },
      process: 'certificate',
      level: 'alert',
      startsOn: clock.today(),
      reason: '本人確認を厳格に行うこと',
    });
    const e = await refusal(
      check('certificate', { personNos: single.personNos }),
      'SUPPRESSION_CONFIRMATION_REQUIRED',
    );
    expect(e.details).toEqual({
      suppressions: [{ suppressionId: hit.suppressionId, level: 'alert', process: 'certificate' }],
    });
    const passed = await check('certificate', { personNos: single.personNos }, true);
    expect(passed).toEqual([hit]);
  });

  it('several coexist: every one applies, and display lists them all', async () => {
    const second = await suppressions.set(officer, {
      target: { personNo: single.personNos[0]! },
      process: 'certificate',
      level: 'alert',
      startsOn: clock.today(),
      endsOn: '2027-03-31',
      reason: '別件の警告',
    });
    const passed = await check('certificate', { personNos: single.personNos }, true);
    expect(passed.map((h) => h.suppressionId)).toHaveLength(2);
    expect(passed.map((h) => h.suppressionId)).toContain(second.suppressionId);
    await suppressions.set(officer, {
      target: { personNo: single.personNos[0]! },
      process: 'certificate',
      level: 'error',
      startsOn: clock.today(),
      reason: '交付停止',
    });
    // An error among alerts blocks, confirmed or not.
    await refusal(check('certificate', { personNos: single.personNos }, true), 'SUPPRESSED');
    const shown = await suppressionsByPerson(
      handle.db,
      TEST_LG_CODE,
      [{ personNo: single.personNos[0]!, householdNo: single.householdNo }],
      clock.now(),
      clock.today(),
    );
    expect(shown.get(single.personNos[0]!)).toHaveLength(3);
  });

  it('a suppression starting later is not yet in force', async () => {
    await suppressions.set(officer, {
      target: { personNo: family.personNos[1]! },
      process: 'inquiry',
      level: 'error',
      startsOn: '2026-12-01',
      reason: '来月から',
    });
    expect(await check('inquiry', { personNos: [family.personNos[1]!] })).toEqual([]);
  });
});

describe('households', () => {
  it('a household-level suppression applies to every member, by household number', async () => {
    await suppressions.set(officer, {
      target: { householdNo: family.householdNo },
      process: 'certificate',
      level: 'error',
      startsOn: clock.today(),
      reason: '世帯全体の交付停止',
    });
    await refusal(check('certificate', { householdNos: [family.householdNo] }), 'SUPPRESSED');
    const shown = await suppressionsByPerson(
      handle.db,
      TEST_LG_CODE,
      family.personNos.map((personNo) => ({ personNo, householdNo: family.householdNo })),
      clock.now(),
      clock.today(),
    );
    for (const p of family.personNos) {
      expect(
        shown.get(p)!.some((h) => h.householdNo === family.householdNo && h.process === 'certificate'),
      ).toBe(true);
    }
    // The member-specific change suppression shows only for the first member.
    expect(shown.get(family.personNos[0]!)!.some((h) => h.process === 'change')).toBe(true);
    expect(shown.get(family.personNos[1]!)!.some((h) => h.process === 'change')).toBe(false);
  });

  it('refuses a target that is not on the register', async () => {
    const base = {
      process: 'change' as const,
      level: 'error' as const,
      startsOn: clock.today(),
      reason: 'x',
    };
    await refusal(
      suppressions.set(officer, { ...base, target: { personNo: personNoFromSerial(99_999) } }),
      'SUPPRESSION_TARGET_NOT_FOUND',
    );
    await refusal(
      suppressions.set(officer, { ...base, target: { householdNo: householdNoFromSerial(99_999) } }),
      'SUPPRESSION_TARGET_NOT_FOUND',
    );
  });
});

describe('releases', () => {
  it('a temporary release lets the process through, then reverts by itself after the configured time', async () => {
    const target = await household(handle.db, clock, 1, '2026-11-20');
    const s = await suppressions.set(officer, {
      target: { personNo: target.personNos[0]! },
      process: 'change',
      level: 'error',
      startsOn: clock.today(),
      reason: '職権調査中',
    });
    const released = await suppressions.temporaryRelease(officer, s.suppressionId, {
      reason: '転居届の受付のため',
    });
    expect(released.until.getTime() - clock.now().getTime()).toBe(RELEASE_MINUTES * 60_000);
    expect(await check('change', { personNos: target.personNos })).toEqual([]);
    advanceMinutes(RELEASE_MINUTES - 1);
    expect(await check('change', { personNos: target.personNos })).toEqual([]);
    const [view] = await suppressions.list(officer, { personNo: target.personNos[0]! });
    expect(view!.state).toBe('temporarilyReleased');
    advanceMinutes(1);
    await refusal(check('change', { personNos: target.personNos }), 'SUPPRESSED');
    const [after] = await suppressions.list(officer, { personNo: target.personNos[0]! });
    expect(after!.state).toBe('inForce');
    expect(after!.releases.map((r) => r.kind)).toEqual(['temporary']);
  });

  it('a release lifts it for good and is recorded once; the history stays', async () => {
    const target = await household(handle.db, clock, 1, '2026-11-20');
    const s = await suppressions.set(officer, {
      target: { personNo: target.personNos[0]! },
      process: 'inquiry',
      level: 'error',
      startsOn: clock.today(),
      reason: '調査中',
    });
    await suppressions.release(officer, s.suppressionId, { reason: '調査終了' });
    expect(await check('inquiry', { personNos: target.personNos })).toEqual([]);
    await refusal(
      suppressions.release(officer, s.suppressionId, { reason: '再度' }),
      'SUPPRESSION_ALREADY_RELEASED',
    );
    await refusal(
      suppressions.temporaryRelease(officer, s.suppressionId, { reason: '再度' }),
      'SUPPRESSION_ALREADY_RELEASED',
    );
    const [view] = await suppressions.list(officer, { personNo: target.personNos[0]! });
    expect(view).toMatchObject({ state: 'released', reason: '調査中' });
    expect(view!.releases).toMatchObject([{ kind: 'release', reason: '調査終了' }]);
    // Nothing is edited or deleted.
    await expect(sql`DELETE FROM suppression_release`.execute(handle.db)).rejects.toThrow(/append-only/);
    await expect(sql`UPDATE suppression SET level = 'alert'`.execute(handle.db)).rejects.toThrow(
      /append-only/,
    );
  });

  it('an end date passing does not lift a suppression: it shows as expired and still applies', async () => {
    const target = await household(handle.db, clock, 1, '2026-11-20');
    await suppressions.set(officer, {
      target: { personNo: target.personNos[0]! },
      process: 'certificate',
      level: 'error',
      startsOn: clock.today(),
      endsOn: clock.today(),
      reason: '期限付き',
    });
    clock.setDay('2026-12-10');
    const e = await refusal(check('certificate', { personNos: target.personNos }), 'SUPPRESSED');
    expect(e.details?.['suppressions']).toHaveLength(1);
    const [view] = await suppressions.list(officer, { personNo: target.personNos[0]! });
    expect(view).toMatchObject({ expired: true, state: 'inForce' });
    clock.set('2026-11-26T01:00:00Z');
  });
});

describe('linked systems', () => {
  it('certificate-process set and release write an outbox message; temporary release and other processes do not', async () => {
    const target = await household(handle.db, clock, 1, '2026-11-20');
    const before = await outboxCount(handle.db, ISSUANCE_SUPPRESSION_TOPIC);
    const cert = await suppressions.set(officer, {
      target: { personNo: target.personNos[0]! },
      process: 'certificate',
      level: 'error',
      startsOn: clock.today(),
      reason: '交付停止（理由は連携しない）',
    });
    expect(await outboxCount(handle.db, ISSUANCE_SUPPRESSION_TOPIC)).toBe(before + 1);
    await suppressions.temporaryRelease(officer, cert.suppressionId, { reason: '窓口で本人確認' });
    const change = await suppressions.set(officer, {
      target: { personNo: target.personNos[0]! },
      process: 'change',
      level: 'error',
      startsOn: clock.today(),
      reason: '異動停止',
    });
    await suppressions.release(officer, change.suppressionId, { reason: '解除' });
    expect(await outboxCount(handle.db, ISSUANCE_SUPPRESSION_TOPIC)).toBe(before + 1);
    await suppressions.release(officer, cert.suppressionId, { reason: '解除' });
    expect(await outboxCount(handle.db, ISSUANCE_SUPPRESSION_TOPIC)).toBe(before + 2);

    const rows = await handle.db
      .selectFrom('outbox')
      .select(['aggregate_key', 'payload'])
      .where('topic', '=', ISSUANCE_SUPPRESSION_TOPIC)
      .orderBy('id', 'desc')
      .limit(2)
      .execute();
    expect(rows.map((r) => r.payload['action'])).toEqual(['release', 'set']);
    expect(rows[0]!.aggregate_key).toBe(target.personNos[0]);
    expect(JSON.stringify(rows)).not.toContain('交付停止');
  });
});

describe('permissions and records', () => {
  it('setting, releasing and temporarily releasing each need their own permission; refusals are logged', async () => {
    const target = await household(handle.db, clock, 1, '2026-11-20');
    const setter = staff(['suppression']);
    const releaser = staff(['suppressionRelease']);
    const temporary = staff(['suppressionTemporaryRelease']);
    const input = {
      target: { personNo: target.personNos[0]! },
      process: 'change' as const,
      level: 'error' as const,
      startsOn: clock.today(),
      reason: '権限の確認',
    };
    await refusal(suppressions.set(releaser, input), 'FORBIDDEN');
    await refusal(suppressions.set(temporary, input), 'FORBIDDEN');
    const s = await suppressions.set(setter, input);
    await refusal(suppressions.release(setter, s.suppressionId, { reason: 'x' }), 'FORBIDDEN');
    await refusal(suppressions.release(temporary, s.suppressionId, { reason: 'x' }), 'FORBIDDEN');
    await refusal(suppressions.temporaryRelease(setter, s.suppressionId, { reason: 'x' }), 'FORBIDDEN');
    await refusal(suppressions.temporaryRelease(releaser, s.suppressionId, { reason: 'x' }), 'FORBIDDEN');
    await suppressions.temporaryRelease(temporary, s.suppressionId, { reason: '一時解除' });
    await suppressions.release(releaser, s.suppressionId, { reason: '解除' });

    const refused = await handle.db
      .selectFrom('access_log')
      .select(['staff_id', 'details'])
      .where('function', '=', 'suppression')
      .where('outcome', '=', 'refused')
      .where('staff_id', '=', setter.staffId)
      .execute();
    expect(refused.map((r) => r.details?.['code'])).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    const done = await handle.db
      .selectFrom('access_log')
      .select(['staff_id', 'details', 'target_persons'])
      .where('function', '=', 'suppression')
      .where('outcome', '=', 'success')
      .where('staff_id', 'in', [setter.staffId, releaser.staffId, temporary.staffId])
      .orderBy('seq')
      .execute();
    expect(done.map((r) => r.details?.['action'])).toEqual(['set', 'temporaryRelease', 'release']);
    expect(done[0]!.target_persons).toEqual([target.personNos[0]]);
    expect(JSON.stringify(done)).not.toContain('権限の確認');
  });

  it('another municipality sees none of these suppressions', async () => {
    const other = everyPermission('131016');
    const [mine] = await suppressions.list(officer, { personNo: single.personNos[0]! });
    await refusal(suppressions.release(other, mine!.suppressionId, { reason: 'x' }), 'SUPPRESSION_NOT_FOUND');
    expect(await suppressions.list(other, { personNo: single.personNos[0]! })).toEqual([]);
  });

  it('keeps reasons encrypted at rest, bound to their row', async () => {
    const { rows } = await sql<{ reason: Uint8Array }>`SELECT reason FROM suppression`.execute(handle.db);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(Buffer.from(r.reason).toString('utf8')).not.toContain('交付停止');
    const views = await suppressions.list(officer, { personNo: single.personNos[0]! });
    expect(views.map((v) => v.reason)).toContain('交付停止');
  });

  it('refuses a list query naming neither a person nor a household', async () => {
    await refusal(suppressions.list(officer, {}), 'INVALID_REQUEST');
  });
});
