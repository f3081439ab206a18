import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import {
  PlainDate,
  addDays,
  addMonths,
  addYears,
  ageOn,
  ageReachedOn,
  civilFromDays,
  compareDates,
  daysBetween,
  daysFromCivil,
  fiscalYearOf,
  formatEraShort,
  formatGregorianJa,
  formatJapaneseDate,
  isAfter,
  isBefore,
  parsePlainDate,
  toJapaneseEra,
} from './plainDate.js';

const d = (s: string) => PlainDate.parse(s);
const EPOCH = d('1970-01-01');
const MEIJI_START = daysFromCivil(1868, 1, 25);
const LAST_TESTED = daysFromCivil(2100, 12, 31);
const dayInRange = fc.integer({ min: MEIJI_START, max: LAST_TESTED }).map((n) => addDays(EPOCH, n));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return undefined;
}

describe('PlainDate schema', () => {
  it.each(['2024-02-29', '1868-01-01', '2999-12-31'])('accepts %s', (s) => {
    expect(PlainDate.safeParse(s).success).toBe(true);
  });

  it.each(['2023-02-29', '2024-13-01', '2024-04-31', '1867-12-31', '3000-01-01', '2024-4-1', '20240401', ''])(
    'refuses %j',
    (s) => {
      expect(PlainDate.safeParse(s).success).toBe(false);
    },
  );
});

describe('days-from-civil', () => {
  it('agrees with known values', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2000, 3, 1)).toBe(11017);
    expect(daysFromCivil(1969, 12, 31)).toBe(-1);
    expect(civilFromDays(19723)).toEqual({ year: 2024, month: 1, day: 1 });
  });

  it('civilFromDays inverts daysFromCivil', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100_000, max: 400_000 }), (n) => {
        const { year, month, day } = civilFromDays(n);
        return daysFromCivil(year, month, day) === n;
      }),
    );
  });
});

describe('parsePlainDate', () => {
  it.each([
    ['2024-04-01', '2024-04-01'],
    ['2024/4/1', '2024-04-01'],
    ['2024.4.1', '2024-04-01'],
    ['20240401', '2024-04-01'],
    ['2024年4月1日', '2024-04-01'],
    ['R6.4.1', '2024-04-01'],
    ['R06.04.01', '2024-04-01'],
    ['r6.4.1', '2024-04-01'],
    ['R6/4/1', '2024-04-01'],
    ['Ｒ６．４．１', '2024-04-01'],
    ['H31.4.30', '2019-04-30'],
    ['S64.1.7', '1989-01-07'],
    ['T15.12.24', '1926-12-24'],
    ['S1.12.25', '1926-12-25'],
    ['M45.7.29', '1912-07-29'],
    ['令和6年4月1日', '2024-04-01'],
    ['令和元年5月1日', '2019-05-01'],
    ['令和1年5月1日', '2019-05-01'],
    ['平成31年4月30日', '2019-04-30'],
    ['平成元年1月8日', '1989-01-08'],
    ['昭和64年1月7日', '1989-01-07'],
    ['大正元年7月30日', '1912-07-30'],
    ['明治元年1月25日', '1868-01-25'],
    ['令和６年４月１日', '2024-04-01'],
    [' 令和 6 年 4 月 1 日 ', '2024-04-01'],
    ['令和\u30006年4月1日', '2024-04-01'],
    ['㋿6年4月1日', '2024-04-01'],
  ])('%j → %s', (input, expected) => {
    expect(parsePlainDate(input)).toBe(expected);
  });

  it.each([
    '平成31年5月1日', // 2019-05-01 is 令和元年
    '令和1年4月30日',
    '令和元年4月30日',
    '昭和64年1月8日',
    '平成元年1月7日',
    '大正15年12月25日', // 1926-12-25 is 昭和元年 (改元 took effect that day)
    'T15.12.25',
    '明治45年7月30日',
    '明治元年1月24日',
    'H31.5.1',
    '令和0年5月1日',
    '2023-02-29',
    '2024/2/30',
    '2024-13-01',
    '令和6年13月1日',
    '1867-12-31',
    '3000-01-01',
    'X6.4.1',
    '令和6年4月',
    '',
    'tomorrow',
  ])('refuses %j with INVALID_DATE', (input) => {
    expect(codeOf(() => parsePlainDate(input))).toBe('INVALID_DATE');
  });

  it('does not echo the input in the message', () => {
    try {
      parsePlainDate('平成31年5月1日');
    } catch (e) {
      expect((e as Error).message).not.toContain('平成31年');
    }
  });
});

describe('era conversion and formatting', () => {
  it.each([
    ['1868-01-25', '明治元年1月25日', 'M1.1.25'],
    ['1912-07-29', '明治45年7月29日', 'M45.7.29'],
    ['1912-07-30', '大正元年7月30日', 'T1.7.30'],
    ['1926-12-24', '大正15年12月24日', 'T15.12.24'],
    ['1926-12-25', '昭和元年12月25日', 'S1.12.25'],
    ['1989-01-07', '昭和64年1月7日', 'S64.1.7'],
    ['1989-01-08', '平成元年1月8日', 'H1.1.8'],
    ['2019-04-30', '平成31年4月30日', 'H31.4.30'],
    ['2019-05-01', '令和元年5月1日', 'R1.5.1'],
    ['2024-04-01', '令和6年4月1日', 'R6.4.1'],
  ])('%s is %s (%s)', (iso, long, short) => {
    expect(formatJapaneseDate(d(iso))).toBe(long);
    expect(formatEraShort(d(iso))).toBe(short);
  });

  it('gives the era parts', () => {
    expect(toJapaneseEra(d('2019-05-01'))).toEqual({
      era: 'reiwa',
      eraName: '令和',
      eraYear: 1,
      month: 5,
      day: 1,
    });
    expect(toJapaneseEra(d('2019-04-30'))).toEqual({
      era: 'heisei',
      eraName: '平成',
      eraYear: 31,
      month: 4,
      day: 30,
    });
  });

  it('refuses days before Meiji 1', () => {
    expect(codeOf(() => toJapaneseEra(d('1868-01-24')))).toBe('INVALID_DATE');
  });

  it('formats the Gregorian form', () => {
    expect(formatGregorianJa(d('2024-04-01'))).toBe('2024年4月1日');
  });

  it('every day from 1868-01-25 to 2100-12-31 round-trips through both era forms', () => {
    for (let n = MEIJI_START; n <= LAST_TESTED; n++) {
      const day = addDays(EPOCH, n);
      const long = formatJapaneseDate(day);
      const short = formatEraShort(day);
      if (parsePlainDate(long) !== day || parsePlainDate(short) !== day) {
        expect.fail(`round trip failed for ${day}: ${long} / ${short}`);
      }
    }
  });

  it('parses the era parts back (property)', () => {
    fc.assert(
      fc.property(dayInRange, (day) => {
        const e = toJapaneseEra(day);
        return parsePlainDate(`${e.eraName}${e.eraYear}年${e.month}月${e.day}日`) === day;
      }),
    );
  });
});

describe('arithmetic', () => {
  it('adds days across months and years', () => {
    expect(addDays(d('2024-02-28'), 1)).toBe('2024-02-29');
    expect(addDays(d('2023-02-28'), 1)).toBe('2023-03-01');
    expect(addDays(d('2024-12-31'), 1)).toBe('2025-01-01');
    expect(addDays(d('2025-01-01'), -1)).toBe('2024-12-31');
  });

  it('addDays and daysBetween are inverse', () => {
    fc.assert(
      fc.property(dayInRange, dayInRange, (a, b) => {
        return addDays(a, daysBetween(a, b)) === b && daysBetween(b, a) === -daysBetween(a, b);
      }),
    );
    fc.assert(
      fc.property(dayInRange, fc.integer({ min: -20_000, max: 20_000 }), (a, n) => {
        if (daysBetween(EPOCH, a) + n < MEIJI_START) return true; // before 1868: out of PlainDate's range
        return daysBetween(a, addDays(a, n)) === n;
      }),
    );
  });

  it('addMonths clamps to the month end', () => {
    expect(addMonths(d('2024-01-31'), 1)).toBe('2024-02-29');
    expect(addMonths(d('2023-01-31'), 1)).toBe('2023-02-28');
    expect(addMonths(d('2024-03-31'), -1)).toBe('2024-02-29');
    expect(addMonths(d('2024-11-15'), 3)).toBe('2025-02-15');
    expect(addMonths(d('2024-01-15'), -13)).toBe('2022-12-15');
  });

  it('addYears turns February 29 into February 28', () => {
    expect(addYears(d('2024-02-29'), 1)).toBe('2025-02-28');
    expect(addYears(d('2024-02-29'), 4)).toBe('2028-02-29');
    expect(addYears(d('2020-04-01'), 1)).toBe('2021-04-01');
  });

  it('refuses results out of range', () => {
    expect(codeOf(() => addDays(d('2999-12-31'), 1))).toBe('INVALID_DATE');
  });

  it('compares', () => {
    expect(compareDates(d('2024-01-01'), d('2024-01-02'))).toBe(-1);
    expect(compareDates(d('2024-01-02'), d('2024-01-02'))).toBe(0);
    expect(compareDates(d('2025-01-01'), d('2024-12-31'))).toBe(1);
    expect(isBefore(d('2024-01-01'), d('2024-01-02'))).toBe(true);
    expect(isAfter(d('2024-01-01'), d('2024-01-02'))).toBe(false);
    fc.assert(
      fc.property(dayInRange, dayInRange, (a, b) => compareDates(a, b) === Math.sign(daysBetween(b, a))),
    );
  });
});

describe('ageOn', () => {
  it.each([
    ['2000-04-01', '2020-03-31', 19],
    ['2000-04-01', '2020-04-01', 20],
    ['2000-04-01', '2000-04-01', 0],
    ['2000-02-29', '2021-02-28', 20],
    ['2000-02-29', '2021-03-01', 21],
    ['2000-02-29', '2024-02-29', 24],
    ['1989-01-07', '2025-01-06', 35],
  ])('born %s, on %s: %i', (birth, on, age) => {
    expect(ageOn(d(birth), d(on))).toBe(age);
  });

  it('ageReachedOn is the day before the birthday (Feb 28 for a Feb 29 birth in a common year)', () => {
    expect(ageReachedOn(d('2006-04-02'), 18)).toBe('2024-04-01');
    expect(ageReachedOn(d('2006-04-01'), 18)).toBe('2024-03-31');
    expect(ageReachedOn(d('2004-02-29'), 1)).toBe('2005-02-28');
    expect(ageReachedOn(d('2004-02-29'), 4)).toBe('2008-02-28');
    expect(ageReachedOn(d('2003-03-01'), 1)).toBe('2004-02-29');
  });
});

describe('fiscalYearOf', () => {
  it.each([
    ['2025-03-31', 2024],
    ['2025-04-01', 2025],
    ['2025-01-01', 2024],
    ['2024-12-31', 2024],
  ])('%s → %i', (day, fy) => {
    expect(fiscalYearOf(d(day))).toBe(fy);
  });
});
