import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import { FlexDate, exactDate, flexDateSortKey, formatFlexDate, parseFlexDate } from './flexDate.js';
import { PlainDate } from './plainDate.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return undefined;
}

describe('parseFlexDate', () => {
  it.each(['令和6年4月1日', 'R6.4.1', '2024-04-01', '令和６年４月１日'])('%j is exact', (input) => {
    expect(parseFlexDate(input)).toEqual({ kind: 'exact', date: '2024-04-01' });
  });

  it.each([
    ['令和3年頃', 'year', '2021-01-01'],
    ['令和3年', 'year', '2021-01-01'],
    ['令和3年月日不詳', 'year', '2021-01-01'],
    ['令和元年頃', 'year', '2019-05-01'], // Reiwa began on 5/1
    ['2021年頃', 'year', '2021-01-01'],
    ['令和3年5月', 'month', '2021-05-01'],
    ['令和3年5月頃', 'month', '2021-05-01'],
    ['令和3年5月日不詳', 'month', '2021-05-01'],
    ['令和3年5月上旬', 'monthPart', '2021-05-01'],
    ['令和3年5月中旬', 'monthPart', '2021-05-11'],
    ['令和3年5月下旬', 'monthPart', '2021-05-21'],
    ['平成31年4月下旬', 'monthPart', '2019-04-21'],
    ['昭和64年1月', 'month', '1989-01-01'],
  ])('%j is approximate (%s), sorted at %s', (input, precision, sortKey) => {
    expect(parseFlexDate(input)).toEqual({ kind: 'approximate', text: input, precision, sortKey });
  });

  it.each([
    ['令和3年5月1日から令和3年5月10日までの間', '2021-05-01', '2021-05-10'],
    ['令和3年5月1日～令和3年5月10日', '2021-05-01', '2021-05-10'],
    ['令和3年5月1日〜令和3年5月10日', '2021-05-01', '2021-05-10'],
    ['令和3年5月1日から5月10日までの間', '2021-05-01', '2021-05-10'],
    ['令和3年5月1日から10日まで', '2021-05-01', '2021-05-10'],
    ['平成31年4月20日から令和元年5月5日までの間', '2019-04-20', '2019-05-05'],
    ['2021-05-01~2021-05-10', '2021-05-01', '2021-05-10'],
  ])('%j is a range', (input, from, to) => {
    const text = input.normalize('NFKC');
    expect(parseFlexDate(input)).toEqual({ kind: 'range', text, from, to, sortKey: from });
  });

  it('refuses a range that ends before it starts', () => {
    expect(codeOf(() => parseFlexDate('令和3年5月10日から令和3年5月1日までの間'))).toBe('INVALID_DATE');
  });

  it.each([
    ['明治45年7月30日', '1912-07-30'], // Meiji ended on 7/29
    ['大正15年12月25日', '1926-12-25'], // Taisho ended on 12/24
    ['平成31年5月1日', '2019-05-01'],
    ['令和元年4月30日', '2019-04-30'],
    ['昭和64年1月8日', '1989-01-08'],
    ['令和3年2月30日', '2021-02-28'],
    ['平成12年2月31日', '2000-02-29'],
    ['2021-02-30', '2021-02-28'],
    ['令和元年4月', '2019-04-01'], // the whole month is before Reiwa
  ])('%j is kept as written, sorted at %s', (input, sortKey) => {
    expect(parseFlexDate(input)).toEqual({ kind: 'asWritten', text: input, sortKey });
  });

  it.each(['年月日不詳', '不詳', '生年月日不詳'])('%j is unknown', (input) => {
    expect(parseFlexDate(input)).toEqual({ kind: 'unknown', text: input });
  });

  it.each([
    '',
    'いつか',
    '令和3年13月',
    '令和3年5月32日',
    '令和0年5月1日',
    '令和3年上旬',
    '令和3年5月1日頃',
    '2月30日',
  ])('refuses %j', (input) => {
    expect(codeOf(() => parseFlexDate(input))).toBe('INVALID_DATE');
  });

  it('trims the text as written', () => {
    expect(parseFlexDate('  令和3年頃 ')).toMatchObject({ kind: 'approximate', text: '令和3年頃' });
  });

  it('produces values the schema accepts', () => {
    for (const input of [
      'R6.4.1',
      '令和3年頃',
      '令和3年5月上旬',
      '令和3年5月1日～令和3年5月10日',
      '明治45年7月30日',
      '不詳',
    ]) {
      expect(FlexDate.parse(parseFlexDate(input))).toEqual(parseFlexDate(input));
    }
  });
});

describe('helpers', () => {
  it('sort keys', () => {
    expect(flexDateSortKey(exactDate(PlainDate.parse('2024-04-01')))).toBe('2024-04-01');
    expect(flexDateSortKey(parseFlexDate('令和3年5月中旬'))).toBe('2021-05-11');
    expect(flexDateSortKey(parseFlexDate('年月日不詳'))).toBeUndefined();
  });

  it('formats exact dates in the era form and others as written', () => {
    expect(formatFlexDate(parseFlexDate('2019-05-01'))).toBe('令和元年5月1日');
    expect(formatFlexDate(parseFlexDate('令和3年5月上旬'))).toBe('令和3年5月上旬');
    expect(formatFlexDate(parseFlexDate('明治45年7月30日'))).toBe('明治45年7月30日');
    expect(formatFlexDate(exactDate(PlainDate.parse('1868-01-01')))).toBe('1868年1月1日');
  });

  it('the schema refuses malformed values', () => {
    expect(FlexDate.safeParse({ kind: 'exact', date: '2023-02-29' }).success).toBe(false);
    expect(
      FlexDate.safeParse({ kind: 'approximate', text: 'x', precision: 'day', sortKey: '2021-01-01' }).success,
    ).toBe(false);
    expect(FlexDate.safeParse({ kind: 'unknown', text: '不詳' }).success).toBe(true);
  });
});
