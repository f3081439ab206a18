import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { FixedClock } from '../shared/index.js';
import type { AuditContext } from './access-log.js';
import { searchAccessLog } from './access-log.service.js';
import { acknowledgeAlert, listAlerts } from './alert.service.js';
import { evaluatePeriodicRules, offHoursReason, type AlertRule } from './monitoring.js';
import { MONITORING, append, auditContext, entry, newMunicipality } from './testing.js';

let handle: DatabaseHandle;

beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
});

async function alerts(lg: string, rule?: AlertRule) {
  return (await listAlerts(handle.db, lg, { ...(rule ? { rule } : {}), pageSize: 500 })).alerts;
}

/** An entry at an instant given in Japan time. */
async function at(lg: string, jst: string, ctx: AuditContext & { clock: FixedClock }, overrides = {}) {
  ctx.clock.set(`${jst}+09:00`);
  return append(handle.db, entry(lg, overrides), ctx);
}

describe('offHours', () => {
  it('fires at 03:00 JST, on 勤労感謝の日 2026-11-23, and on a Sunday; once per staff member and day', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    await at(lg, '2026-11-26T03:00:00', ctx);
    await at(lg, '2026-11-26T03:30:00', ctx);
    await at(lg, '2026-11-23T10:00:00', ctx);
    await at(lg, '2026-11-29T10:00:00', ctx);
    const raised = await alerts(lg, 'offHours');
    expect(raised.map((a) => a.details['reason']).sort()).toEqual(['holiday', 'night', 'weekend']);
    expect(raised.every((a) => a.staffId === 'staff-001')).toBe(true);
  });

  it('does not fire within office hours on a working day, nor for the system’s batch work', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    await at(lg, '2026-11-26T08:00:00', ctx);
    await at(lg, '2026-11-26T18:59:00', ctx);
    // 08:30 on Tuesday 11-24 in Japan is still 11-23 (a holiday) in UTC: the Japan day counts.
    await at(lg, '2026-11-24T08:30:00', ctx);
    await at(lg, '2026-11-26T03:00:00', ctx, { staffId: 'system', function: 'batch' });
    expect(await alerts(lg)).toEqual([]);
  });

  it('uses the Japan calendar day and the configured hours', () => {
    expect(offHoursReason(new Date('2026-11-22T23:30:00Z'), MONITORING)).toBe('holiday'); // 11-23 08:30 JST
    expect(offHoursReason(new Date('2026-11-23T23:30:00Z'), MONITORING)).toBeUndefined(); // 11-24 08:30 JST
    expect(offHoursReason(new Date('2026-11-26T10:00:00Z'), MONITORING)).toBe('night'); // 19:00 JST
    expect(offHoursReason(new Date('2026-12-29T01:00:00Z'), MONITORING)).toBe('closingDay');
    // 休日開庁: a Saturday, a holiday and a closing day the office opens on are working days, hours still count.
    const open = { ...MONITORING, openDays: ['2026-11-28', '2026-11-23', '2026-12-29'] };
    expect(offHoursReason(new Date('2026-11-28T01:00:00Z'), MONITORING)).toBe('weekend'); // Sat 10:00 JST
    expect(offHoursReason(new Date('2026-11-28T01:00:00Z'), open)).toBeUndefined();
    expect(offHoursReason(new Date('2026-11-22T23:30:00Z'), open)).toBeUndefined();
    expect(offHoursReason(new Date('2026-12-29T01:00:00Z'), open)).toBeUndefined();
    expect(offHoursReason(new Date('2026-11-28T12:00:00Z'), open)).toBe('night'); // Sat 21:00 JST
    expect(offHoursReason(new Date('2026-11-29T01:00:00Z'), open)).toBe('weekend'); // Sun, not listed
    // From the environment: a comma-separated list, none by default, anything else refused.
    expect(
      loadConfig({ NODE_ENV: 'test', JUMIN_OPEN_DAYS: '2026-11-28,2026-12-29' }).monitoring.openDays,
    ).toEqual(['2026-11-28', '2026-12-29']);
    expect(loadConfig({ NODE_ENV: 'test' }).monitoring.openDays).toEqual([]);
    expect(() => loadConfig({ NODE_ENV: 'test', JUMIN_OPEN_DAYS: '11/28' })).toThrow();
  });
});

describe('loginFailures', () => {
  it('fires at the Nth failure within the window, not at N-1, and once per window', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    const fail = { function: 'loginFailed', outcome: 'failed', targetPersons: [] } as const;
    await at(lg, '2026-11-26T10:00:00', ctx, fail);
    await at(lg, '2026-11-26T10:01:00', ctx, { ...fail, function: 'secondFactorFailed' });
    expect(await alerts(lg, 'loginFailures')).toEqual([]);
    await at(lg, '2026-11-26T10:02:00', ctx, fail);
    await at(lg, '2026-11-26T10:03:00', ctx, fail);
    const raised = await alerts(lg, 'loginFailures');
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ staffId: 'staff-001', entrySeq: 3, details: { failures: 3 } });
  });

  it('does not count failures spread beyond the window, and counts unknown names per terminal', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    const fail = { function: 'loginFailed', outcome: 'failed', targetPersons: [] } as const;
    await at(lg, '2026-11-26T10:00:00', ctx, fail);
    await at(lg, '2026-11-26T10:10:00', ctx, fail);
    await at(lg, '2026-11-26T10:20:00', ctx, fail);
    expect(await alerts(lg, 'loginFailures')).toEqual([]);

    const unknown = { ...fail, staffId: null, terminalId: 'KIOSK-9' };
    await at(lg, '2026-11-26T11:00:00', ctx, unknown);
    await at(lg, '2026-11-26T11:00:10', ctx, { ...unknown, terminalId: 'OTHER' });
    await at(lg, '2026-11-26T11:00:20', ctx, unknown);
    expect(await alerts(lg, 'loginFailures')).toEqual([]);
    await at(lg, '2026-11-26T11:00:30', ctx, unknown);
    expect(await alerts(lg, 'loginFailures')).toEqual([
      expect.objectContaining({ staffId: null, subject: 'terminal:KIOSK-9' }),
    ]);
  });
});

describe('massSearch', () => {
  const ctx = () => ({
    clock: new FixedClock('2026-11-26T01:00:00Z'),
    monitoring: { ...MONITORING, massSearchMinimum: 5 },
  });
  const search = (staffId: string) => ({ staffId, function: 'search', targetPersons: [] }) as const;

  it('fires when the last hour exceeds the minimum for a staff member with no baseline; once', async () => {
    const lg = await newMunicipality(handle.db);
    const c = ctx();
    for (let i = 0; i < 5; i++) await at(lg, `2026-11-26T10:0${i}:00`, c, search('a'));
    expect(await alerts(lg, 'massSearch')).toEqual([]);
    await at(lg, '2026-11-26T10:05:00', c, search('a'));
    await at(lg, '2026-11-26T10:06:00', c, search('a'));
    expect(await alerts(lg, 'massSearch')).toEqual([
      expect.objectContaining({
        staffId: 'a',
        entrySeq: 6,
        details: expect.objectContaining({ searchesLastHour: 6 }),
      }),
    ]);
  });

  it('measures against the staff member’s own baseline: busy as usual is no spike, three times more is', async () => {
    const lg = await newMunicipality(handle.db);
    const c = ctx();
    // Baseline: 4 searches in each of two active hours last week → 4/h → threshold max(5, 12) = 12.
    for (const hour of ['10', '14']) {
      for (let i = 0; i < 4; i++) await at(lg, `2026-11-19T${hour}:0${i}:00`, c, search('b'));
    }
    for (let i = 0; i < 12; i++)
      await at(lg, `2026-11-26T10:${String(i).padStart(2, '0')}:00`, c, search('b'));
    expect(await alerts(lg, 'massSearch')).toEqual([]);
    await at(lg, '2026-11-26T10:30:00', c, search('b'));
    expect(await alerts(lg, 'massSearch')).toEqual([
      expect.objectContaining({
        staffId: 'b',
        details: { searchesLastHour: 13, baselinePerHour: 4, threshold: 12 },
      }),
    ]);
  });
});

describe('facts about the record opened', () => {
  it('supportMeasureSubject fires for an inquiry, search or issuance of a support-measure subject only', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    await append(handle.db, entry(lg, { facts: { supportMeasureSubject: false } }), ctx);
    await append(handle.db, entry(lg, { function: 'change', facts: { supportMeasureSubject: true } }), ctx);
    expect(await alerts(lg)).toEqual([]);
    await append(handle.db, entry(lg, { function: 'issuance', facts: { supportMeasureSubject: true } }), ctx);
    await append(handle.db, entry(lg, { facts: { supportMeasureSubject: true } }), ctx);
    const raised = await alerts(lg, 'supportMeasureSubject');
    expect(raised.map((a) => a.entrySeq).sort()).toEqual([3, 4]);
    expect(JSON.stringify(raised)).not.toContain('0000000018');
    // The fact is kept with the entry, so an auditor sees why.
    const logged = await searchAccessLog(handle.db, lg, { page: 1 });
    expect(logged.entries[0]!.details).toEqual({ facts: { supportMeasureSubject: true } });
  });

  it('one opening of a support-measure subject (record, household, search again) raises one alert', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    const p = '0000000018';
    const opened = { facts: { supportMeasureSubject: true, supportMeasurePersons: [p] } };
    // The record, then its household (every member a target), then a search listing the person again.
    await at(lg, '2026-11-26T10:00:00', ctx, { ...opened, targetPersons: [p] });
    await at(lg, '2026-11-26T10:00:01', ctx, { ...opened, targetPersons: ['0000000026', p, '0000000034'] });
    await at(lg, '2026-11-26T10:05:00', ctx, { ...opened, function: 'search', targetPersons: [p] });
    let raised = await alerts(lg, 'supportMeasureSubject');
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ entrySeq: 1, staffId: 'staff-001' });
    expect(JSON.stringify(raised)).not.toContain(p);

    // Another staff member's lookup, another protected person, an issuance, or the same lookup after the
    // window: each is a lookup of its own.
    await at(lg, '2026-11-26T10:06:00', ctx, { ...opened, staffId: 'staff-002', targetPersons: [p] });
    await at(lg, '2026-11-26T10:06:30', ctx, {
      facts: { supportMeasureSubject: true, supportMeasurePersons: ['0000000042'] },
      targetPersons: ['0000000042'],
    });
    await at(lg, '2026-11-26T10:07:00', ctx, { ...opened, function: 'issuance', targetPersons: [p] });
    await at(lg, '2026-11-26T10:07:30', ctx, { ...opened, targetPersons: [p] });
    await at(lg, '2026-11-26T10:10:01', ctx, { ...opened, targetPersons: [p] });
    raised = await alerts(lg, 'supportMeasureSubject');
    expect(raised.map((a) => a.entrySeq).sort((a, b) => a! - b!)).toEqual([1, 4, 5, 6, 8]);
  });

  it('sameSurnameAndAddress fires when the operator shares surname and address with the record', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    await append(handle.db, entry(lg, { facts: { sameSurnameAndAddressAsOperator: false } }), ctx);
    expect(await alerts(lg)).toEqual([]);
    await append(handle.db, entry(lg, { facts: { sameSurnameAndAddressAsOperator: true } }), ctx);
    expect(await alerts(lg)).toEqual([
      expect.objectContaining({ rule: 'sameSurnameAndAddress', entrySeq: 2 }),
    ]);
  });
});

describe('searchWithoutTransaction (periodic)', () => {
  it('fires for searches not followed by an inquiry, change or issuance within the idle time; once', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    const search = { function: 'search', targetPersons: [] } as const;
    await at(lg, '2026-11-26T10:00:00', ctx, search); // followed at 10:10
    await at(lg, '2026-11-26T10:10:00', ctx);
    await at(lg, '2026-11-26T11:00:00', ctx, search); // never followed
    await at(lg, '2026-11-26T11:05:00', ctx, search); // never followed: same situation
    await at(lg, '2026-11-26T11:01:00', ctx, { ...search, staffId: 'other' }); // followed by a change
    await at(lg, '2026-11-26T11:20:00', ctx, { staffId: 'other', function: 'change' });

    ctx.clock.set('2026-11-26T11:20:00+09:00');
    expect(await evaluatePeriodicRules(handle.db, lg, ctx)).toEqual({ raised: 0 }); // not yet idle long enough
    ctx.clock.set('2026-11-26T11:40:00+09:00');
    expect(await evaluatePeriodicRules(handle.db, lg, ctx)).toEqual({ raised: 1 });
    ctx.clock.set('2026-11-26T12:00:00+09:00');
    expect(await evaluatePeriodicRules(handle.db, lg, ctx)).toEqual({ raised: 0 });
    const raised = await alerts(lg, 'searchWithoutTransaction');
    expect(raised).toEqual([
      expect.objectContaining({
        staffId: 'staff-001',
        entrySeq: 3,
        details: expect.objectContaining({ searches: 2 }),
      }),
    ]);
  });

  it('does not count a transaction that comes too late', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    await at(lg, '2026-11-26T13:00:00', ctx, { function: 'search', targetPersons: [] });
    await at(lg, '2026-11-26T13:45:00', ctx, { function: 'inquiry' });
    ctx.clock.set('2026-11-26T14:00:00+09:00');
    expect(await evaluatePeriodicRules(handle.db, lg, ctx)).toEqual({ raised: 1 });
  });
});

describe('acknowledging alerts', () => {
  it('acknowledges once, with a note, logs the act, and the database refuses any other change', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    await at(lg, '2026-11-26T03:00:00', ctx);
    const [raised] = await alerts(lg, 'offHours');
    expect(raised!.acknowledgedAt).toBeNull();
    ctx.clock.set('2026-11-26T10:00:00+09:00');
    const auditor = { staffId: 'auditor-1', terminalId: 'AUDIT-1' };
    const ack = await handle.db
      .transaction()
      .execute((trx) =>
        acknowledgeAlert(trx, lg, raised!.alertId, auditor, '本人に確認済み（夜間の届出対応）', ctx),
      );
    expect(ack).toMatchObject({
      acknowledgedBy: 'auditor-1',
      acknowledgementNote: '本人に確認済み（夜間の届出対応）',
    });
    expect(await listAlerts(handle.db, lg, { acknowledged: 'false' })).toMatchObject({ total: 0 });
    expect(await listAlerts(handle.db, lg, { acknowledged: true })).toMatchObject({ total: 1 });

    const log = await searchAccessLog(handle.db, lg, { function: 'alertAcknowledged' });
    expect(log.entries).toEqual([
      expect.objectContaining({
        staffId: 'auditor-1',
        details: { alertId: raised!.alertId, rule: 'offHours', entrySeq: 1 },
      }),
    ]);

    await expect(
      handle.db
        .transaction()
        .execute((trx) => acknowledgeAlert(trx, lg, raised!.alertId, auditor, undefined, ctx)),
    ).rejects.toMatchObject({ code: 'ALERT_ALREADY_ACKNOWLEDGED' });
    await expect(
      handle.db.transaction().execute((trx) => acknowledgeAlert(trx, lg, 999_999, auditor, undefined, ctx)),
    ).rejects.toMatchObject({ code: 'ALERT_NOT_FOUND' });
    await expect(
      handle.db.updateTable('audit_alert').set({ rule: 'massSearch' }).where('lg_code', '=', lg).execute(),
    ).rejects.toThrow(/acknowledged/);
    await expect(handle.db.deleteFrom('audit_alert').where('lg_code', '=', lg).execute()).rejects.toThrow();
  });
});
