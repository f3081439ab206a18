/**
 * Calendar days as plain `YYYY-MM-DD` strings (never a JavaScript Date), Japanese era conversion, and day
 * arithmetic done with integers (days since 1970-01-01 via Howard Hinnant's days-from-civil algorithm).
 */
import { z } from 'zod';
import { DomainError } from './errors.js';

// ---------------------------------------------------------------------------------------------------------
// Integer calendar arithmetic (proleptic Gregorian)

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function isValidCivilDate(year: number, month: number, day: number): boolean {
  return (
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    Number.isInteger(day) &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

/** Days since 1970-01-01 of a Gregorian date (negative before it). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400; // [0, 399]
  const mp = (month + 9) % 12; // March = 0
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1; // [0, 365]
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy; // [0, 146096]
  return era * 146097 + doe - 719468;
}

/** Inverse of daysFromCivil. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z0 = days + 719468;
  const era = Math.floor(z0 / 146097);
  const doe = z0 - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

// ---------------------------------------------------------------------------------------------------------
// PlainDate

export const MIN_YEAR = 1868;
export const MAX_YEAR = 2999;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INVALID_DATE_MESSAGE = `日付が正しくありません。${MIN_YEAR}年から${MAX_YEAR}年までの実在する日付を入力してください。`;

function isPlainDateString(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return year >= MIN_YEAR && year <= MAX_YEAR && isValidCivilDate(year, month, day);
}

/** A real Gregorian calendar day, `YYYY-MM-DD`, years 1868..2999. */
export const PlainDate = z
  .string({ error: INVALID_DATE_MESSAGE })
  .refine(isPlainDateString, { message: INVALID_DATE_MESSAGE })
  .brand<'PlainDate'>();
export type PlainDate = z.infer<typeof PlainDate>;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Builds a PlainDate from numbers; throws INVALID_DATE if it is not a real day in range. */
export function plainDateOf(year: number, month: number, day: number): PlainDate {
  const s = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  if (!isValidCivilDate(year, month, day) || !isPlainDateString(s)) {
    throw new DomainError('INVALID_DATE', INVALID_DATE_MESSAGE);
  }
  return s as PlainDate;
}

export function dateParts(d: PlainDate): { year: number; month: number; day: number } {
  return { year: Number(d.slice(0, 4)), month: Number(d.slice(5, 7)), day: Number(d.slice(8, 10)) };
}

function toDays(d: PlainDate): number {
  const { year, month, day } = dateParts(d);
  return daysFromCivil(year, month, day);
}

function fromDays(days: number): PlainDate {
  const { year, month, day } = civilFromDays(days);
  return plainDateOf(year, month, day);
}

// ---------------------------------------------------------------------------------------------------------
// Japanese eras

export type Era = 'meiji' | 'taisho' | 'showa' | 'heisei' | 'reiwa';

export interface EraInfo {
  readonly era: Era;
  readonly name: string;
  /** Letter of the short form (R6.4.1). */
  readonly letter: string;
  /** First day of the era. Meiji 1 is taken to start on 1868-01-25 (lunar new year); see domain.md. */
  readonly start: PlainDate;
}

/** Oldest first. */
export const ERAS: readonly EraInfo[] = [
  { era: 'meiji', name: '明治', letter: 'M', start: '1868-01-25' as PlainDate },
  { era: 'taisho', name: '大正', letter: 'T', start: '1912-07-30' as PlainDate },
  { era: 'showa', name: '昭和', letter: 'S', start: '1926-12-25' as PlainDate },
  { era: 'heisei', name: '平成', letter: 'H', start: '1989-01-08' as PlainDate },
  { era: 'reiwa', name: '令和', letter: 'R', start: '2019-05-01' as PlainDate },
];

/** The era a name ('令和') or letter ('R', 'r') stands for. */
export function eraInfoOf(nameOrLetter: string): EraInfo | undefined {
  const key = nameOrLetter.toUpperCase();
  return ERAS.find((e) => e.name === nameOrLetter || e.letter === key);
}

/** Gregorian year of year `eraYear` of an era (令和1 → 2019). */
export function eraToGregorianYear(era: EraInfo, eraYear: number): number {
  return dateParts(era.start).year + eraYear - 1;
}

/** The day after the era's last day, or undefined for the current era. */
export function eraEnd(era: EraInfo): PlainDate | undefined {
  return ERAS[ERAS.indexOf(era) + 1]?.start;
}

export interface JapaneseEraDate {
  era: Era;
  eraName: string;
  eraYear: number;
  month: number;
  day: number;
}

function eraInfoFor(d: PlainDate): EraInfo {
  const info = [...ERAS].reverse().find((e) => d >= e.start);
  if (!info) {
    throw new DomainError('INVALID_DATE', '明治元年1月1日（1868年1月25日）より前の日付は和暦で表せません。');
  }
  return info;
}

/** The era date of a day. Throws INVALID_DATE before 1868-01-25 (the first day of Meiji 1 used here). */
export function toJapaneseEra(d: PlainDate): JapaneseEraDate {
  const info = eraInfoFor(d);
  const { year, month, day } = dateParts(d);
  return { era: info.era, eraName: info.name, eraYear: year - dateParts(info.start).year + 1, month, day };
}

/** '令和6年4月1日'; the first year of an era is written 元年 ('令和元年5月1日'). */
export function formatJapaneseDate(d: PlainDate): string {
  const e = toJapaneseEra(d);
  return `${e.eraName}${e.eraYear === 1 ? '元' : String(e.eraYear)}年${e.month}月${e.day}日`;
}

/** 'R6.4.1' (year 1 is written 1 in the short form). */
export function formatEraShort(d: PlainDate): string {
  const e = toJapaneseEra(d);
  return `${eraInfoFor(d).letter}${e.eraYear}.${e.month}.${e.day}`;
}

/** '2024年4月1日'. */
export function formatGregorianJa(d: PlainDate): string {
  const { year, month, day } = dateParts(d);
  return `${year}年${month}月${day}日`;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

/** A year/month/day as written, not yet checked against the calendar. `era` undefined means Gregorian. */
export interface WrittenDate {
  era: EraInfo | undefined;
  /** The era year, or the Gregorian year when `era` is undefined. */
  year: number;
  month: number;
  day: number;
}

/** NFKC (full-width digits, ㋿ → 令和), no whitespace. */
export function normalizeDateText(input: string): string {
  return input.normalize('NFKC').replace(/\s+/gu, '');
}

const ERA_TOKEN = '(明治|大正|昭和|平成|令和|[MTSHRmtshr])';
const ERA_YEAR_TOKEN = '(\\d{1,2}|元)';
const ERA_DATE_KANJI = new RegExp(`^${ERA_TOKEN}${ERA_YEAR_TOKEN}年(\\d{1,2})月(\\d{1,2})日$`);
const ERA_DATE_SHORT = new RegExp(`^${ERA_TOKEN}${ERA_YEAR_TOKEN}[./-](\\d{1,2})[./-](\\d{1,2})$`);
const GREGORIAN_KANJI = /^(\d{4})年(\d{1,2})月(\d{1,2})日$/;
const GREGORIAN_SEPARATED = /^(\d{4})[./-](\d{1,2})[./-](\d{1,2})$/;
const GREGORIAN_COMPACT = /^(\d{4})(\d{2})(\d{2})$/;

/** Reads '元' or digits as an era year. */
export function readEraYear(token: string): number {
  return token === '元' ? 1 : Number(token);
}

/**
 * Recognises the written forms of a full date (see parsePlainDate) without checking that the day exists.
 * Takes text already passed through normalizeDateText.
 */
export function readWrittenDate(text: string): WrittenDate | undefined {
  const era = ERA_DATE_KANJI.exec(text) ?? ERA_DATE_SHORT.exec(text);
  if (era) {
    const info = eraInfoOf(era[1] ?? '');
    if (!info) return undefined;
    return { era: info, year: readEraYear(era[2] ?? ''), month: Number(era[3]), day: Number(era[4]) };
  }
  const greg = GREGORIAN_KANJI.exec(text) ?? GREGORIAN_SEPARATED.exec(text) ?? GREGORIAN_COMPACT.exec(text);
  if (greg) return { era: undefined, year: Number(greg[1]), month: Number(greg[2]), day: Number(greg[3]) };
  return undefined;
}

/**
 * The Gregorian day a written date denotes, or a message saying why it is not a real day: an impossible
 * calendar day (2月30日), or an era date outside its era (平成31年5月1日 is 令和元年5月1日).
 */
export function resolveWrittenDate(
  w: WrittenDate,
): { ok: true; date: PlainDate } | { ok: false; message: string } {
  const year = w.era ? eraToGregorianYear(w.era, w.year) : w.year;
  const s = `${pad(year, 4)}-${pad(w.month, 2)}-${pad(w.day, 2)}`;
  if ((w.era && w.year < 1) || !isValidCivilDate(year, w.month, w.day) || !isPlainDateString(s)) {
    return { ok: false, message: INVALID_DATE_MESSAGE };
  }
  const date = s as PlainDate;
  if (w.era) {
    const end = eraEnd(w.era);
    if (date < w.era.start || (end !== undefined && date >= end)) {
      const message = `${w.era.name}の期間にない日付です。元号と年を確認してください（例: 2019年5月1日は令和元年5月1日）。`;
      return { ok: false, message };
    }
  }
  return { ok: true, date };
}

/**
 * Parses a date as typed at the counter: '2024-04-01', '2024/4/1', '20240401', '2024年4月1日', 'R6.4.1',
 * 'r06.04.01', 'H31.4.30', '令和6年4月1日', '令和元年5月1日', full-width digits, spaces anywhere.
 * Throws INVALID_DATE for anything that is not a real day, including era dates outside their era.
 */
export function parsePlainDate(input: string): PlainDate {
  const written = readWrittenDate(normalizeDateText(input));
  if (!written) {
    throw new DomainError(
      'INVALID_DATE',
      '日付の形式が正しくありません。「令和6年4月1日」「R6.4.1」「2024-04-01」のように入力してください。',
    );
  }
  const resolved = resolveWrittenDate(written);
  if (!resolved.ok) throw new DomainError('INVALID_DATE', resolved.message);
  return resolved.date;
}

// ---------------------------------------------------------------------------------------------------------
// Arithmetic and comparison

export function addDays(d: PlainDate, n: number): PlainDate {
  return fromDays(toDays(d) + n);
}

/** Adds months; a day past the end of the target month is clamped to its last day (1/31 + 1 month = 2/28). */
export function addMonths(d: PlainDate, n: number): PlainDate {
  const { year, month, day } = dateParts(d);
  const index = year * 12 + (month - 1) + n;
  const y = Math.floor(index / 12);
  const m = index - y * 12 + 1;
  return plainDateOf(y, m, Math.min(day, daysInMonth(y, m)));
}

/** Adds years; February 29 becomes February 28 in a common year. */
export function addYears(d: PlainDate, n: number): PlainDate {
  return addMonths(d, n * 12);
}

export function compareDates(a: PlainDate, b: PlainDate): -1 | 0 | 1 {
  // Fixed-width ISO strings sort like the days they denote.
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isBefore(a: PlainDate, b: PlainDate): boolean {
  return a < b;
}

export function isAfter(a: PlainDate, b: PlainDate): boolean {
  return a > b;
}

/** Days from a to b (positive when b is later). addDays(a, daysBetween(a, b)) === b. */
export function daysBetween(a: PlainDate, b: PlainDate): number {
  return toDays(b) - toDays(a);
}

/**
 * Age in completed years on a day, by the ordinary birthday rule: the age goes up on the birthday itself
 * (for a 2/29 birth, on 3/1 in a common year).
 *
 * Japanese law (年齢計算ニ関スル法律, 民法143条) says a person *reaches* an age at the end of the day before
 * the birthday. For counting a person's age on a whole day this gives the same number as the ordinary rule;
 * it matters only when a law speaks of the day an age is reached (e.g. school years cut on April 1 births,
 * "18歳に達する日") — use `ageReachedOn` for that.
 */
export function ageOn(birth: PlainDate, on: PlainDate): number {
  const b = dateParts(birth);
  const o = dateParts(on);
  const hadBirthday = o.month > b.month || (o.month === b.month && o.day >= b.day);
  return o.year - b.year - (hadBirthday ? 0 : 1);
}

/**
 * The day on whose end a person legally reaches `age` (年齢に達する日): the day before the birthday, or
 * February 28 for a February 29 birth in a common year (民法143条: no corresponding day → month end).
 */
export function ageReachedOn(birth: PlainDate, age: number): PlainDate {
  const { year, month, day } = dateParts(birth);
  const y = year + age;
  if (month === 2 && day === 29 && !isLeapYear(y)) return plainDateOf(y, 2, 28);
  return addDays(plainDateOf(y, month, day), -1);
}

/** Japanese fiscal year (April to March): 2025-03-31 → 2024, 2025-04-01 → 2025. */
export function fiscalYearOf(d: PlainDate): number {
  const { year, month } = dateParts(d);
  return month >= 4 ? year : year - 1;
}
