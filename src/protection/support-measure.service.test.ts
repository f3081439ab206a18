/**
 * Support measures (支援措置) over their life, on one timeline: application (provisional), decision, the
 * extension window, deadlines and their alerts, termination, transfer with its outbox message, rejection,
 * details encrypted at rest and bound to their row, officer-only details with logged reads, the issuance
 * block and single-case releases.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import { FixedClock } from '../shared/index.js';
import {
  SUPPORT_MEASURE_TRANSFER_TOPIC,
  consumeCaseRelease,
  findProtectedPersons,
  issuanceBlock,
  raiseSupportMeasureAlerts,
  supportMeasureDeadlines,
} from './index.js';
import { SupportMeasureService } from './support-measure.service.js';
import type { ProtectionSettings } from './suppression.service.js';
import { TEST_LG_CODE, household, outboxCount, protectionServices, refusal, staff } from './testing.js';
import { Keyring, LocalKeyProvider } from '../keys/index.js';

let handle: DatabaseHandle;
let measures: SupportMeasureService;
let settings: ProtectionSettings;
const clock = new FixedClock('2020-01-15T01:00:00Z');
const officer = staff(['supportMeasure', 'inquiry']);
const clerk = staff(['inquiry', 'change', 'certificate', 'suppression']);
/** victim and child; three others applying alone. */
let victim: string, child: string, rejected: string, mover: string, lapsing: string, late: string;
const ids: Record<string, number> = {};
const PERPETRATOR = '加害　太郎';

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
  ({ measures, settings } = protectionServices(handle.db, clock));
  [victim, child] = (await household(handle.db, clock, 2, '2020-01-10')).personNos as [string, string];
  [rejected] = (await household(handle.db, clock, 1, '2020-01-10')).personNos as [string];
  [mover] = (await household(handle.db, clock, 1, '2020-01-10')).personNos as [string];
  [lapsing] = (await household(handle.db, clock, 1, '2020-01-10')).personNos as [string];
  [late] = (await household(handle.db, clock, 1, '2020-01-10')).personNos as [string];
});
afterAll(async () => {
  await handle.close();
});

const protectedOn = (personNos: string[]) =>
  findProtectedPersons(handle.db, TEST_LG_CODE, personNos, clock.today());

function applyFor(personNo: string, others: string[] = [], blocked = ['residentCopy', 'kiosk'] as const) {
  return measures.apply(officer, {
    applicant: { personNo, relation: '本人（配偶者からの暴力）' },
    protectedPersons: others.map((p) => ({ personNo: p, relation: '子' })),
    perpetrator: {
      name: PERPETRATOR,
      birthDate: '昭和55年5月5日',
      address: '東京都港区芝公園4丁目2番8号',
      notes: '夜間に来庁の可能性',
    },
    blockedServices: [...blocked],
    reason: '配偶者からの暴力（保護命令あり）',
  });
}

describe('application and decision', () => {
  it('an application starts a provisional measure protecting the applicant and those with them', async () => {
    clock.setDay('2020-03-20');
    const m = await applyFor(victim, [child]);
    ids['main'] = m.measureId;
    expect(m).toMatchObject({
      status: 'provisional',
      applicantPersonNo: victim,
      protectedPersonNos: [child],
      startsOn: '2020-03-20',
      endsOn: '2021-03-19',
      appliedOn: '2020-03-20',
      blockedServices: ['residentCopy', 'kiosk'],
    });
    expect(await protectedOn([victim, child, rejected])).toEqual(new Set([victim, child]));
    ids['rejected'] = (await applyFor(rejected)).measureId;
    ids['mover'] = (await applyFor(mover)).measureId;
    ids['lapsing'] = (await applyFor(lapsing)).measureId;
  });

  it('blocks issuance of the blocked services to third parties', async () => {
    const block = (p: string, s: 'residentCopy' | 'kiosk') =>
      handle.db.transaction().execute((trx) => issuanceBlock(trx, TEST_LG_CODE, p, s, clock.today()));
    expect(await block(child, 'residentCopy')).toEqual({ measureId: ids['main'] });
    expect(await block(victim, 'kiosk')).toEqual({ measureId: ids['main'] });
    expect(await block(late, 'residentCopy')).toBeUndefined();
  });

  it('rejection ends the provisional measure', async () => {
    const m = await measures.reject(officer, ids['rejected']!, { reason: '要件に該当しない' });
    expect(m).toMatchObject({ status: 'rejected', closedOn: '2020-03-20' });
    expect(await protectedOn([rejected])).toEqual(new Set());
    await refusal(measures.decide(officer, ids['rejected']!), 'SUPPORT_MEASURE_STATUS');
  });

  it('a decision makes it active for one year from the start day', async () => {
    clock.setDay('2020-04-01');
    const m = await measures.decide(officer, ids['main']!, { startsOn: '2020-04-01' });
    expect(m).toMatchObject({ status: 'active', endsOn: '2021-03-31', decidedOn: '2020-04-01' });
    // The provisional days stay covered.
    expect(m.startsOn).toBe('2020-03-20');
    await measures.decide(officer, ids['mover']!);
    await refusal(measures.decide(officer, ids['main']!), 'SUPPORT_MEASURE_STATUS');
  });
});

describe('details', () => {
  it('are encrypted at rest: the raw rows hold no perpetrator name, reason or relation', async () => {
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM support_measure_detail`.execute(
      handle.db,
    );
    expect(rows.length).toBe(4);
    for (const r of rows) {
      for (const v of [r['perpetrator'], r['case_details']]) {
        const text = Buffer.from(v as Uint8Array).toString('utf8');
        expect(text).not.toContain('加害');
        expect(text).not.toContain('配偶者');
        expect(text).not.toContain('港区');
      }
    }
    const all = await sql<Record<string, unknown>>`SELECT * FROM support_measure`.execute(handle.db);
    expect(JSON.stringify(all.rows)).not.toContain('加害');
  });

  it('are shown to the officer, and every read is logged', async () => {
    const d = await measures.details(officer, ids['main']!);
    expect(d.perpetrator).toEqual({
      name: PERPETRATOR,
      birthDate: '昭和55年5月5日',
      address: '東京都港区芝公園4丁目2番8号',
      notes: '夜間に来庁の可能性',
    });
    expect(d.protectedPersons).toEqual([{ personNo: child, relation: '子' }]);
    expect(d.reason).toBe('配偶者からの暴力（保護命令あり）');
    expect(d.events.map((e) => e.kind)).toEqual(['applied', 'decided']);
    const logged = await handle.db
      .selectFrom('access_log')
      .select(['target_persons', 'details', 'outcome'])
      .where('function', '=', 'supportMeasure')
      .where('staff_id', '=', officer.staffId)
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(logged).toMatchObject({
      outcome: 'success',
      details: { action: 'readDetails', measureId: ids['main'] },
    });
    expect(logged.target_persons).toEqual([victim, child]);
    expect(JSON.stringify(logged)).not.toContain('加害');
  });

  it('are refused to staff without the support-measure permission, and the refusal is logged', async () => {
    await refusal(measures.details(clerk, ids['main']!), 'FORBIDDEN');
    await refusal(measures.apply(clerk, {} as never), 'FORBIDDEN');
    await refusal(measures.releaseCase(clerk, ids['main']!, { reason: 'x' }), 'FORBIDDEN');
    const refused = await handle.db
      .selectFrom('access_log')
      .select('details')
      .where('staff_id', '=', clerk.staffId)
      .where('outcome', '=', 'refused')
      .execute();
    expect(refused.map((r) => r.details?.['action'])).toEqual(['readDetails', 'apply', 'releaseCase']);
  });

  it('fail to decrypt when a ciphertext is moved to another row', async () => {
    await sql`
      UPDATE support_measure_detail SET perpetrator =
        (SELECT perpetrator FROM support_measure_detail WHERE measure_id = ${ids['main']})
      WHERE measure_id = ${ids['lapsing']}`.execute(handle.db);
    await refusal(measures.details(officer, ids['lapsing']!), 'DETAILS_UNREADABLE');
    // The original still reads.
    expect((await measures.details(officer, ids['main']!)).perpetrator.name).toBe(PERPETRATOR);
  });

  it('fail to decrypt under another master key', async () => {
    const otherKey = new SupportMeasureService(handle.db, {
      ...settings,
      keyring: new Keyring(handle.db, LocalKeyProvider.ephemeral()),
    });
    await refusal(otherKey.details(officer, ids['main']!), 'KEY_UNWRAP_FAILED');
  });
});

describe('single-case release', () => {
  it('lets exactly one later issuance pass', async () => {
    const consume = (ref: string) =>
      handle.db
        .transaction()
        .execute((trx) => consumeCaseRelease(trx, TEST_LG_CODE, ids['main']!, ref, clock.now()));
    expect(await consume('ISSUE-0')).toBe(false);
    const { releaseId } = await measures.releaseCase(officer, ids['main']!, { reason: '裁判所の嘱託による' });
    expect(await consume('ISSUE-1')).toBe(true);
    expect(await consume('ISSUE-2')).toBe(false);
    const row = await handle.db
      .selectFrom('support_measure_case_release')
      .select(['issuance_ref', 'used_at'])
      .where('release_id', '=', releaseId)
      .executeTakeFirstOrThrow();
    expect(row.issuance_ref).toBe('ISSUE-1');
    await expect(
      sql`UPDATE support_measure_case_release SET issuance_ref = 'ISSUE-9' WHERE release_id = ${releaseId}`.execute(
        handle.db,
      ),
    ).rejects.toThrow(/marked used/);
    const d = await measures.details(officer, ids['main']!);
    expect(d.caseReleases).toMatchObject([
      { releaseId, reason: '裁判所の嘱託による', issuanceRef: 'ISSUE-1' },
    ]);
  });
});

describe('transfer', () => {
  it('hands the measure to the destination with an outbox message and ends it here', async () => {
    const before = await outboxCount(handle.db, SUPPORT_MEASURE_TRANSFER_TOPIC);
    const m = await measures.transfer(officer, ids['mover']!, { destinationLgCode: '131016' });
    expect(m).toMatchObject({ status: 'transferred', transferredTo: '131016', closedOn: '2020-04-01' });
    expect(await outboxCount(handle.db, SUPPORT_MEASURE_TRANSFER_TOPIC)).toBe(before + 1);
    const msg = await handle.db
      .selectFrom('outbox')
      .select(['aggregate_key', 'payload'])
      .where('topic', '=', SUPPORT_MEASURE_TRANSFER_TOPIC)
      .executeTakeFirstOrThrow();
    expect(msg.aggregate_key).toBe(mover);
    expect(msg.payload).toMatchObject({
      measureId: ids['mover'],
      personNos: [mover],
      destinationLgCode: '131016',
    });
    expect(JSON.stringify(msg.payload)).not.toContain('加害');
    expect(await protectedOn([mover])).toEqual(new Set());
    await refusal(
      measures.transfer(officer, ids['mover']!, { destinationLgCode: '131016' }),
      'SUPPORT_MEASURE_STATUS',
    );
  });
});

describe('extension and deadlines', () => {
  it('refuses an extension before the window opens', async () => {
    clock.setDay('2021-02-28');
    const e = await refusal(measures.extend(officer, ids['main']!), 'EXTENSION_NOT_YET_OPEN');
    expect(e.details).toMatchObject({ opensOn: '2021-03-01' });
  });

  it('lists measures ending within 30 days, and alerts once', async () => {
    // main ends 2021-03-31 (31 days away): not yet; the provisional "lapsing" ends 2021-03-19.
    const list = await supportMeasureDeadlines(handle.db, TEST_LG_CODE, clock.today());
    expect(list).toEqual([
      expect.objectContaining({
        measureId: ids['lapsing'],
        kind: 'endingSoon',
        endsOn: '2021-03-19',
        daysLeft: 19,
      }),
    ]);
    const ctx = { clock, monitoring: settings.audit.monitoring };
    expect(await raiseSupportMeasureAlerts(handle.db, TEST_LG_CODE, ctx)).toEqual({
      deadlines: 1,
      raised: 1,
    });
    expect(await raiseSupportMeasureAlerts(handle.db, TEST_LG_CODE, ctx)).toEqual({
      deadlines: 1,
      raised: 0,
    });
  });

  it('extends inside the window for another year from the day after the end', async () => {
    clock.setDay('2021-03-01');
    const m = await measures.extend(officer, ids['main']!);
    expect(m.endsOn).toBe('2022-03-31');
    const d = await measures.details(officer, ids['main']!);
    expect(d.events.at(-1)).toMatchObject({ kind: 'extended', startsOn: '2021-04-01', endsOn: '2022-03-31' });
    // The next window is a year away.
    await refusal(measures.extend(officer, ids['main']!), 'EXTENSION_NOT_YET_OPEN');
  });

  it('after the end without extension: protection stops, the deadline list and an alert say so', async () => {
    clock.setDay('2021-03-25');
    expect(await protectedOn([lapsing])).toEqual(new Set());
    expect(await protectedOn([victim, child])).toEqual(new Set([victim, child]));
    const list = await supportMeasureDeadlines(handle.db, TEST_LG_CODE, clock.today());
    expect(list).toEqual([
      expect.objectContaining({ measureId: ids['lapsing'], kind: 'ended', daysLeft: -6 }),
    ]);
    const ctx = { clock, monitoring: settings.audit.monitoring };
    expect(await raiseSupportMeasureAlerts(handle.db, TEST_LG_CODE, ctx)).toEqual({
      deadlines: 1,
      raised: 1,
    });
    const alerts = await handle.db
      .selectFrom('audit_alert')
      .select(['rule', 'details'])
      .where('rule', 'like', 'supportMeasureEnd%')
      .orderBy('alert_id')
      .execute();
    expect(alerts.map((a) => a.rule)).toEqual(['supportMeasureEnding', 'supportMeasureEnded']);
    // The officer's own list logs the read.
    expect(await measures.deadlines(officer)).toHaveLength(1);
  });

  it('refuses an extension after the end', async () => {
    const m = await applyFor(late);
    await measures.decide(officer, m.measureId); // 2021-03-25 → 2022-03-24
    clock.setDay('2022-03-25');
    await refusal(measures.extend(officer, m.measureId), 'EXTENSION_PERIOD_PASSED');
  });
});

describe('termination', () => {
  it('a termination notice ends the measure at once', async () => {
    expect(await protectedOn([victim])).toEqual(new Set([victim]));
    const m = await measures.terminate(officer, ids['main']!);
    expect(m).toMatchObject({ status: 'ended', closedOn: '2022-03-25' });
    expect(await protectedOn([victim, child])).toEqual(new Set());
    await refusal(measures.terminate(officer, ids['main']!), 'SUPPORT_MEASURE_STATUS');
    // A lapsed measure is closed the same way and leaves the deadline list.
    await measures.terminate(officer, ids['lapsing']!);
    expect(
      (await supportMeasureDeadlines(handle.db, TEST_LG_CODE, clock.today())).map((d) => d.measureId),
    ).not.toContain(ids['lapsing']);
    await expect(sql`DELETE FROM support_measure`.execute(handle.db)).rejects.toThrow(/append-only/);
  });
});
