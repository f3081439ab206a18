/**
 * Monitoring of access patterns and account behaviour (PIA: continuous monitoring with alerts). Entry rules
 * run inside appendAccessLog, in the transaction of the act, so an alert exists exactly when its entry
 * does; rules that need time to pass run periodically. Thresholds come from `config.monitoring`.
 *
 * One alert per rule and situation: per entry for the facts about a record, except that one staff member
 * looking up the same support-measure subject again within PROTECTED_LOOKUP_MINUTES (the record, then its
 * household, then the record again) is one lookup; per staff member and Japan
 * day for access out of hours; per window for login failures and mass searching; per run of unfollowed
 * searches for searches without a transaction. Alert details hold ids and counts only.
 */
import holidayJp from '@holiday-jp/holiday_jp';
import { z } from 'zod';
import { japanDateOf } from '../shared/index.js';
import type { AccessLogEntry, AuditContext, MonitoringConfig } from './access-log.js';
import {
  alertEntriesSince,
  alertRaisedSince,
  countEntries,
  insertAlert,
  lockSubject,
  searchActivity,
  staffActivity,
  type Executor,
  type NewAlertRow,
} from './access-log.repository.js';

export const ALERT_RULES = [
  'offHours',
  'loginFailures',
  'massSearch',
  'supportMeasureSubject',
  'sameSurnameAndAddress',
  'searchWithoutTransaction',
  'supportMeasureEnding',
  'supportMeasureEnded',
  'backupFailed',
] as const;
export const AlertRule = z.enum(ALERT_RULES);
export type AlertRule = z.infer<typeof AlertRule>;

export const ALERT_RULE_LABEL: Readonly<Record<AlertRule, string>> = {
  offHours: '時間外・休日のアクセス',
  loginFailures: 'ログインの連続失敗',
  massSearch: '大量検索',
  supportMeasureSubject: '支援措置対象者の記録の参照',
  sameSurnameAndAddress: '操作者と同じ氏・住所の記録の参照',
  searchWithoutTransaction: '事務処理を伴わない検索',
  supportMeasureEnding: '支援措置の期間終了が近い',
  supportMeasureEnded: '支援措置の期間が延長されないまま終了',
  backupFailed: 'バックアップの失敗',
};

export interface EntryFacts {
  readonly supportMeasureSubject?: boolean | undefined;
  /** Which of the entry's targets are support-measure subjects; the entry's targets when not given. */
  readonly supportMeasurePersons?: readonly string[] | undefined;
  readonly sameSurnameAndAddressAsOperator?: boolean | undefined;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const JST_OFFSET_MS = 9 * HOUR_MS;
const BASELINE_DAYS = 28;

const LOGIN_FAILURES = new Set(['loginFailed', 'secondFactorFailed']);
const RECORD_OPENINGS = new Set(['inquiry', 'search', 'issuance']);
/** Reads of a record that, repeated for the same person, are one lookup (an issuance always alerts). */
const LOOKUPS = new Set(['inquiry', 'search']);
/** How long later lookups of the same support-measure subject by the same staff member raise no new alert. */
export const PROTECTED_LOOKUP_MINUTES = 10;
const TRANSACTIONS = ['inquiry', 'change', 'issuance'] as const;

/** The staff id batch work runs as: its night runs are expected, not a staff member out of hours. */
const SYSTEM_STAFF_ID = 'system';

export type OffHoursReason = 'night' | 'weekend' | 'holiday' | 'closingDay';

/**
 * Why an instant is outside office hours in Japan, or undefined within them. Holidays are the national
 * public holidays (@holiday-jp/holiday_jp) of the Japan calendar day — never the UTC day — and the year-end
 * closing days 12/29–1/3 on which municipal offices are closed by ordinance. A day the municipality opens
 * its office on (休日開庁, `openDays`) counts as a working day.
 */
export function offHoursReason(instant: Date, m: MonitoringConfig): OffHoursReason | undefined {
  const day = japanDateOf(instant);
  if (!m.openDays.includes(day)) {
    if (Object.hasOwn(holidayJp.holidays, day)) return 'holiday';
    const monthDay = day.slice(5);
    if (monthDay >= '12-29' || monthDay <= '01-03') return 'closingDay';
    const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
    if (weekday === 0 || weekday === 6) return 'weekend';
  }
  const minute = Math.floor(((instant.getTime() + JST_OFFSET_MS) % DAY_MS) / MINUTE_MS);
  const within =
    m.officeStart <= m.officeEnd
      ? minute >= m.officeStart && minute < m.officeEnd
      : minute >= m.officeStart || minute < m.officeEnd;
  return within ? undefined : 'night';
}

function alert(
  entry: AccessLogEntry,
  rule: AlertRule,
  subject: string,
  dedupeKey: string,
  raisedAt: Date,
  details: Record<string, unknown>,
): NewAlertRow {
  return {
    lg_code: entry.lgCode,
    rule,
    staff_id: entry.staffId,
    subject,
    dedupe_key: dedupeKey,
    raised_at: raisedAt,
    entry_seq: entry.seq,
    details,
  };
}

/**
 * The entry rules, for an entry just appended in `trx`. Entries of a municipality are appended side by
 * side in lanes, so before a rule looks back the subject's entries (login failures, searches, lookups of
 * protected persons) the transaction takes the subject's lock (`lockSubject`): entries of one subject then
 * pass the look-backs one at a time, each seeing every earlier one and its alerts.
 * Returns the rules that raised an alert.
 */
export async function evaluateEntryRules(
  trx: Executor,
  entry: AccessLogEntry,
  facts: EntryFacts,
  ctx: AuditContext,
): Promise<AlertRule[]> {
  const m = ctx.monitoring;
  const now = entry.occurredAt;
  const candidates: NewAlertRow[] = [];
  const seqKey = String(entry.seq);
  const subject = entry.staffId ?? `terminal:${entry.terminalId}`;
  // Taken before a rule's first look-back, once.
  let locked = false;
  const lookBack = async () => {
    if (!locked) await lockSubject(trx, entry.lgCode, subject);
    locked = true;
  };

  if (entry.staffId !== null && entry.staffId !== SYSTEM_STAFF_ID) {
    const reason = offHoursReason(now, m);
    if (reason) {
      const day = japanDateOf(now);
      candidates.push(
        alert(entry, 'offHours', entry.staffId, `${entry.staffId}|${day}`, now, {
          reason,
          japanDate: day,
          function: entry.function,
        }),
      );
    }
  }

  if (LOGIN_FAILURES.has(entry.function)) {
    const windowStart = new Date(now.getTime() - m.loginFailureMinutes * MINUTE_MS);
    await lookBack();
    const failures = await countEntries(
      trx,
      entry.lgCode,
      entry.staffId !== null
        ? { staffId: entry.staffId }
        : { terminalId: entry.terminalId, unknownStaff: true },
      [...LOGIN_FAILURES],
      windowStart,
      new Date(now.getTime() + 1),
    );
    if (
      failures >= m.loginFailures &&
      !(await alertRaisedSince(trx, entry.lgCode, 'loginFailures', subject, windowStart))
    ) {
      candidates.push(
        alert(entry, 'loginFailures', subject, seqKey, now, {
          failures,
          windowMinutes: m.loginFailureMinutes,
          terminalId: entry.terminalId,
        }),
      );
    }
  }

  if (entry.function === 'search' && entry.staffId !== null) {
    const hourStart = new Date(now.getTime() - HOUR_MS);
    await lookBack();
    const lastHour = await searchActivity(
      trx,
      entry.lgCode,
      entry.staffId,
      hourStart,
      new Date(now.getTime() + 1),
    );
    // The threshold is never below the minimum: below it, no need to compute the baseline.
    if (lastHour.searches > m.massSearchMinimum) {
      const past = await searchActivity(
        trx,
        entry.lgCode,
        entry.staffId,
        new Date(now.getTime() - BASELINE_DAYS * DAY_MS),
        hourStart,
      );
      const baseline = past.activeHours > 0 ? past.searches / past.activeHours : 0;
      const threshold = Math.max(m.massSearchMinimum, m.massSearchFactor * baseline);
      if (
        lastHour.searches > threshold &&
        !(await alertRaisedSince(trx, entry.lgCode, 'massSearch', entry.staffId, hourStart))
      ) {
        candidates.push(
          alert(entry, 'massSearch', entry.staffId, seqKey, now, {
            searchesLastHour: lastHour.searches,
            baselinePerHour: Math.round(baseline * 100) / 100,
            threshold: Math.round(threshold * 100) / 100,
          }),
        );
      }
    }
  }

  if (facts.supportMeasureSubject && RECORD_OPENINGS.has(entry.function)) {
    const protectedPersons = facts.supportMeasurePersons ?? entry.targetPersons;
    let repeated = false;
    if (LOOKUPS.has(entry.function)) {
      await lookBack();
      repeated = await lookedUpLately(trx, entry, subject, protectedPersons);
    }
    if (!repeated) {
      candidates.push(
        alert(entry, 'supportMeasureSubject', subject, seqKey, now, {
          function: entry.function,
          persons: entry.targetPersons.length,
        }),
      );
    }
  }
  if (facts.sameSurnameAndAddressAsOperator) {
    candidates.push(
      alert(entry, 'sameSurnameAndAddress', subject, seqKey, now, {
        function: entry.function,
        persons: entry.targetPersons.length,
      }),
    );
  }

  const raised: AlertRule[] = [];
  for (const c of candidates) {
    if (await insertAlert(trx, c)) raised.push(c.rule as AlertRule);
  }
  return raised;
}

/**
 * Whether a lookup (inquiry or search) by this staff member of any of these support-measure subjects
 * already raised an alert within the last PROTECTED_LOOKUP_MINUTES.
 */
async function lookedUpLately(
  trx: Executor,
  entry: AccessLogEntry,
  subject: string,
  persons: readonly string[],
): Promise<boolean> {
  const since = new Date(entry.occurredAt.getTime() - PROTECTED_LOOKUP_MINUTES * MINUTE_MS);
  const earlier = await alertEntriesSince(trx, entry.lgCode, 'supportMeasureSubject', subject, since);
  return earlier.some((e) => LOOKUPS.has(e.function) && e.targetPersons.some((p) => persons.includes(p)));
}

/**
 * The rules that need time to pass: a search not followed, within idleSearchMinutes, by an inquiry, change
 * or issuance of the same staff member. Unfollowed searches between two transactions are one situation
 * (one alert, keyed by the first search's seq), so running this again raises nothing twice. Looks back
 * `lookbackHours` (default 24) beyond the idle window; run it more often than that.
 */
export async function evaluatePeriodicRules(
  db: Executor,
  lgCode: string,
  ctx: AuditContext & { readonly lookbackHours?: number },
): Promise<{ raised: number }> {
  const now = ctx.clock.now();
  const idleMs = ctx.monitoring.idleSearchMinutes * MINUTE_MS;
  const from = new Date(now.getTime() - idleMs - (ctx.lookbackHours ?? 24) * HOUR_MS);
  const activity = await staffActivity(
    db,
    lgCode,
    ['search', ...TRANSACTIONS],
    from,
    new Date(now.getTime() + 1),
  );

  let raised = 0;
  let i = 0;
  while (i < activity.length) {
    const staffId = activity[i]!.staff_id;
    const own: typeof activity = [];
    for (; i < activity.length && activity[i]!.staff_id === staffId; i++) own.push(activity[i]!);

    // Walk backwards so each search knows the next transaction after it.
    let nextTransaction: (typeof own)[number] | undefined;
    const groups = new Map<number, { first: number; last: number; count: number }>();
    for (let j = own.length - 1; j >= 0; j--) {
      const e = own[j]!;
      if (e.function !== 'search') {
        nextTransaction = e;
        continue;
      }
      if (now.getTime() - e.occurred_at.getTime() < idleMs) continue; // its window has not passed yet
      const followed =
        nextTransaction !== undefined &&
        nextTransaction.occurred_at.getTime() - e.occurred_at.getTime() <= idleMs;
      if (followed) continue;
      const key = nextTransaction?.seq ?? 0;
      const g = groups.get(key);
      if (g) {
        g.first = e.seq;
        g.count += 1;
      } else groups.set(key, { first: e.seq, last: e.seq, count: 1 });
    }
    for (const g of groups.values()) {
      const ok = await insertAlert(db, {
        lg_code: lgCode,
        rule: 'searchWithoutTransaction',
        staff_id: staffId,
        subject: staffId,
        dedupe_key: String(g.first),
        raised_at: now,
        entry_seq: g.first,
        details: {
          searches: g.count,
          firstSeq: g.first,
          lastSeq: g.last,
          idleMinutes: ctx.monitoring.idleSearchMinutes,
        },
      });
      if (ok) raised += 1;
    }
  }
  return { raised };
}

/**
 * Raises an alert found by another module's periodic job (e.g. support-measure deadlines), unless one with
 * the same rule and dedupe key exists; returns whether it was raised. Details: ids, dates and counts only.
 */
export async function raiseAlert(
  db: Executor,
  alert: {
    lgCode: string;
    rule: AlertRule;
    subject: string;
    dedupeKey: string;
    raisedAt: Date;
    details: Record<string, unknown>;
    staffId?: string | null;
  },
): Promise<boolean> {
  return insertAlert(db, {
    lg_code: alert.lgCode,
    rule: alert.rule,
    staff_id: alert.staffId ?? null,
    subject: alert.subject,
    dedupe_key: alert.dedupeKey,
    raised_at: alert.raisedAt,
    entry_seq: null,
    details: alert.details,
  });
}
