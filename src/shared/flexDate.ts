/**
 * Dates that may be uncertain (不詳日) or not calendar days, as written in the family register (domain.md §2):
 * birth and death dates such as '令和3年頃', '令和3年5月上旬', '年月日不詳', a period '…から…までの間', or a
 * non-calendar date kept exactly as written ('明治45年7月30日': Meiji ended on 7/29).
 * Every kind except `unknown` has a sort key: the earliest plausible day, so lists can be ordered.
 */
import { z } from 'zod';
import { DomainError } from './errors.js';
import {
  ERAS,
  PlainDate,
  daysInMonth,
  eraEnd,
  eraInfoOf,
  eraToGregorianYear,
  formatGregorianJa,
  formatJapaneseDate,
  normalizeDateText,
  plainDateOf,
  readEraYear,
  readWrittenDate,
  resolveWrittenDate,
  MAX_YEAR,
  MIN_YEAR,
} from './plainDate.js';
import type { EraInfo, WrittenDate } from './plainDate.js';

const text = z.string().min(1);

export const FlexDate = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('exact'), date: PlainDate }),
  z.object({
    kind: z.literal('approximate'),
    text,
    precision: z.enum(['year', 'month', 'monthPart']),
    sortKey: PlainDate,
  }),
  z.object({ kind: z.literal('range'), text, from: PlainDate, to: PlainDate, sortKey: PlainDate }),
  z.object({ kind: z.literal('asWritten'), text, sortKey: PlainDate }),
  z.object({ kind: z.literal('unknown'), text }),
]);
export type FlexDate = z.infer<typeof FlexDate>;

export function exactDate(d: PlainDate): FlexDate {
  return { kind: 'exact', date: d };
}

/** The day to sort by: the date itself, or the earliest plausible day; undefined for an unknown date. */
export function flexDateSortKey(d: FlexDate): PlainDate | undefined {
  switch (d.kind) {
    case 'exact':
      return d.date;
    case 'approximate':
    case 'range':
    case 'asWritten':
      return d.sortKey;
    case 'unknown':
      return undefined;
  }
}

/** Exact dates in the Japanese era form ('令和6年4月1日'); every other kind as written. */
export function formatFlexDate(d: FlexDate): string {
  if (d.kind !== 'exact') return d.text;
  const meijiStart = ERAS[0]?.start;
  // The few days of 1868 before Meiji 1 began have no era form.
  return meijiStart !== undefined && d.date < meijiStart
    ? formatGregorianJa(d.date)
    : formatJapaneseDate(d.date);
}

const FORMAT_MESSAGE =
  '日付の形式が正しくありません。「令和6年4月1日」「令和3年頃」「令和3年5月上旬」「年月日不詳」' +
  '「令和3年5月1日から令和3年5月10日までの間」のように入力してください。';

function invalid(message: string = FORMAT_MESSAGE): DomainError {
  return new DomainError('INVALID_DATE', message);
}

const UNKNOWN = /^(?:年月日|生年月日|日付)?(?:不詳|不明)$/;
const RANGE = /^(.+?)(?:から|~|〜)(.+?)(?:までの間|まで)?$/;
const ERA_PERIOD = /^(明治|大正|昭和|平成|令和|[MTSHRmtshr])(\d{1,2}|元)年(?:(\d{1,2})月)?(.*)$/;
const GREGORIAN_PERIOD = /^(\d{4})年(?:(\d{1,2})月)?(.*)$/;
const MONTH_PART_START: Readonly<Record<string, number>> = { 上旬: 1, 中旬: 11, 下旬: 21 };
const MONTH_PART_END: Readonly<Record<string, number>> = { 上旬: 10, 中旬: 20 };

/**
 * Parses a date as written. Exact dates (any form parsePlainDate accepts) give `exact`; era/year/month/day
 * text that is not a real day gives `asWritten` with the day clamped to the month for its sort key.
 * Throws INVALID_DATE for anything else.
 */
export function parseFlexDate(input: string): FlexDate {
  const written = input.normalize('NFKC').trim();
  const t = normalizeDateText(input);
  if (t === '') throw invalid();
  if (UNKNOWN.test(t)) return { kind: 'unknown', text: written };

  const date = readWrittenDate(t);
  if (date) return fromWrittenDate(date, written);

  const range = RANGE.exec(t);
  if (range) return parseRange(range[1] ?? '', range[2] ?? '', written);

  const period = readPeriod(t);
  if (period) return fromPeriod(period, written);

  throw invalid();
}

function fromWrittenDate(w: WrittenDate, written: string): FlexDate {
  const resolved = resolveWrittenDate(w);
  if (resolved.ok) return exactDate(resolved.date);
  // Not a real day: keep it as written if its parts are plausible (e.g. 2月30日, or a day after the era ended).
  const year = w.era ? eraToGregorianYear(w.era, w.year) : w.year;
  if (
    w.year < 1 ||
    w.month < 1 ||
    w.month > 12 ||
    w.day < 1 ||
    w.day > 31 ||
    year < MIN_YEAR ||
    year > MAX_YEAR
  ) {
    throw invalid(resolved.message);
  }
  const sortKey = plainDateOf(year, w.month, Math.min(w.day, daysInMonth(year, w.month)));
  return { kind: 'asWritten', text: written, sortKey };
}

function parseRange(left: string, right: string, written: string): FlexDate {
  const start = readWrittenDate(left);
  if (!start) throw invalid();
  // The end may leave out what it shares with the start: '令和3年5月1日から5月10日まで', '…から10日まで'.
  const end = readWrittenDate(right) ?? completeEnd(start, right);
  if (!end) throw invalid();
  const from = resolveWrittenDate(start);
  const to = resolveWrittenDate(end);
  if (!from.ok) throw invalid(from.message);
  if (!to.ok) throw invalid(to.message);
  if (from.date > to.date) throw invalid('期間の始めの日付が終わりの日付より後になっています。');
  return { kind: 'range', text: written, from: from.date, to: to.date, sortKey: from.date };
}

function completeEnd(start: WrittenDate, right: string): WrittenDate | undefined {
  const monthDay = /^(\d{1,2})月(\d{1,2})日$/.exec(right);
  if (monthDay) return { ...start, month: Number(monthDay[1]), day: Number(monthDay[2]) };
  const dayOnly = /^(\d{1,2})日$/.exec(right);
  if (dayOnly) return { ...start, day: Number(dayOnly[1]) };
  return undefined;
}

interface Period {
  era: EraInfo | undefined;
  gregorianYear: number;
  month: number | undefined;
  /** '上旬' | '中旬' | '下旬', or undefined for a whole year or month. */
  part: string | undefined;
}

/** '令和3年頃', '令和3年5月', '令和3年5月上旬', '令和3年月日不詳', '2021年5月頃' … */
function readPeriod(t: string): Period | undefined {
  let era: EraInfo | undefined;
  let year: number;
  let month: string | undefined;
  let rest: string;
  const e = ERA_PERIOD.exec(t);
  const g = e ? null : GREGORIAN_PERIOD.exec(t);
  if (e) {
    era = eraInfoOf(e[1] ?? '');
    if (!era) return undefined;
    const eraYear = readEraYear(e[2] ?? '');
    if (eraYear < 1) return undefined;
    year = eraToGregorianYear(era, eraYear);
    [month, rest] = [e[3], e[4] ?? ''];
  } else if (g) {
    [year, month, rest] = [Number(g[1]), g[2], g[3] ?? ''];
  } else {
    return undefined;
  }
  if (year < MIN_YEAR || year > MAX_YEAR) return undefined;
  if (month === undefined) {
    // A bare year, '頃', or '月日不詳'.
    return ['', '頃', 'ごろ', 'ころ', '月日不詳'].includes(rest)
      ? { era, gregorianYear: year, month: undefined, part: undefined }
      : undefined;
  }
  const m = Number(month);
  if (m < 1 || m > 12) return undefined;
  if (['', '頃', 'ごろ', 'ころ', '日不詳'].includes(rest))
    return { era, gregorianYear: year, month: m, part: undefined };
  if (rest in MONTH_PART_START) return { era, gregorianYear: year, month: m, part: rest };
  return undefined;
}

function fromPeriod(p: Period, written: string): FlexDate {
  const y = p.gregorianYear;
  const precision = p.month === undefined ? 'year' : p.part === undefined ? 'month' : 'monthPart';
  const month = p.month ?? 1;
  const first = plainDateOf(y, month, p.part === undefined ? 1 : (MONTH_PART_START[p.part] ?? 1));
  const lastMonth = p.month ?? 12;
  const lastDay = p.part === undefined ? undefined : MONTH_PART_END[p.part];
  const last = plainDateOf(y, lastMonth, lastDay ?? daysInMonth(y, lastMonth));
  if (p.era) {
    // The earliest plausible day is within the era: 令和元年頃 cannot be before 2019-05-01.
    const end = eraEnd(p.era);
    const overlaps = last >= p.era.start && (end === undefined || first < end);
    if (!overlaps) return { kind: 'asWritten', text: written, sortKey: first };
    const sortKey = first < p.era.start ? p.era.start : first;
    return { kind: 'approximate', text: written, precision, sortKey };
  }
  return { kind: 'approximate', text: written, precision, sortKey: first };
}
