/**
 * Retention rules of removed records (除票), pure: when a removed record moves to the archive, and when it
 * is purged.
 *
 * The purge boundary. A 除票 is kept 150 years from the day it was removed (住民基本台帳法施行令 art. 34:
 * 消除した日から150年間). The privacy impact assessment promises physical deletion "150 fiscal years after
 * removal", run once a year. We read "removal more than 150 fiscal years before the run" as
 *
 *     FY(run) − FY(removal) > 150,  i.e.  removal day < April 1 of (FY(run) − 150),
 *
 * with FY the Japanese fiscal year (April–March: 2021-03-31 is FY2020, 2021-04-01 is FY2021). So a record
 * removed on 2021-03-31 is purged by a run in FY2171 (from 2171-04-01; the scheduled run is in October
 * 2171), and one removed on 2021-04-01 — exactly 150 fiscal years before FY2171 — waits for FY2172. Since
 * the run is on or after April 1 of FY(run) and the removal before April 1 of FY(run) − 150, a record is
 * always more than 150 calendar years old when purged: never early, at most about a year and a half late.
 *
 * The removal day. The law counts from the day the record was removed (消除した日): the processing day of
 * the change that removed the person, set by the system. We take the LATEST of that day, the removal's
 * effective date, and — for a death written as uncertain (不詳日: 令和3年頃, 令和3年5月上旬, a range) — the
 * latest plausible day of the death date as written. An unknown date (年月日不詳) gives no day of its own:
 * a death cannot have been recorded before it happened, so the processing day bounds it. A record with no
 * processing day (no removal snapshot found) is never eligible. Taking the latest day means an uncertain
 * date can only delay a purge, never bring it forward.
 */
import {
  addYears,
  dateParts,
  daysInMonth,
  fiscalYearOf,
  plainDateOf,
  type FlexDate,
  type PlainDate,
} from '../shared/index.js';

/** Years a 除票 is kept (Act enforcement order art. 34, since 2019). */
export const RETENTION_FISCAL_YEARS = 150;
/** Removed records older than this many years move to the archive (standard specification). */
export const ARCHIVE_AFTER_YEARS = 5;
/** The purge runs once a year in this month (PIA: October). */
export const PURGE_MONTH = 10;

/** The first day NOT purged by a run on `runOn`: April 1 of FY(run) − 150. Removal days before it are. */
export function purgeCutoff(runOn: PlainDate): PlainDate {
  return plainDateOf(fiscalYearOf(runOn) - RETENTION_FISCAL_YEARS, 4, 1);
}

/** Removal days before this day are archived by a run on `runOn` (more than five years before it). */
export function archiveCutoff(runOn: PlainDate): PlainDate {
  return addYears(runOn, -ARCHIVE_AFTER_YEARS);
}

/**
 * The latest day an uncertain date can stand for: the day itself, the end of the year, month or part of
 * the month (上旬 → 10th, 中旬 → 20th, 下旬 → month end), the end of a range; for a date kept as written
 * (not a calendar day, e.g. 2月30日) the end of its month; undefined when unknown.
 */
export function latestPlausibleDay(d: FlexDate): PlainDate | undefined {
  switch (d.kind) {
    case 'exact':
      return d.date;
    case 'range':
      return d.to;
    case 'asWritten': {
      const { year, month } = dateParts(d.sortKey);
      return plainDateOf(year, month, daysInMonth(year, month));
    }
    case 'approximate': {
      const { year, month, day } = dateParts(d.sortKey);
      if (d.precision === 'year') return plainDateOf(year, 12, 31);
      const end = daysInMonth(year, month);
      if (d.precision === 'month') return plainDateOf(year, month, end);
      return plainDateOf(year, month, day <= 10 ? 10 : day <= 20 ? 20 : end);
    }
    case 'unknown':
      return undefined;
  }
}

export interface RemovalFacts {
  /** The removal's effective date (resident.removed_on). */
  effectiveDate: PlainDate;
  /** Processing day of the change that removed the person; undefined if no removal snapshot was found. */
  processedOn: PlainDate | undefined;
  /** A death's date as written, when the removal is a death. */
  deathDate?: FlexDate | undefined;
}

/** The day retention counts from (see the module comment); undefined when it cannot be established. */
export function retentionStart(r: RemovalFacts): PlainDate | undefined {
  if (r.processedOn === undefined) return undefined;
  const days = [r.effectiveDate, r.processedOn];
  const death = r.deathDate ? latestPlausibleDay(r.deathDate) : undefined;
  if (death) days.push(death);
  return days.reduce((a, b) => (b > a ? b : a));
}

/** Whether a run on `runOn` purges a record whose retention starts on `start`. */
export function isPurgeDue(start: PlainDate | undefined, runOn: PlainDate): boolean {
  return start !== undefined && start < purgeCutoff(runOn);
}
