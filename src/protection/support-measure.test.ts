/** The term arithmetic of support measures: one year from the start, extension window, next term. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, daysBetween, plainDateOf, type PlainDate } from '../shared/index.js';
import { extendedTermOf, extensionWindowOf, termEndOf } from './support-measure.js';

const d = (s: string) => s as PlainDate;

describe('term', () => {
  it.each([
    ['2020-04-01', '2021-03-31'],
    ['2020-01-01', '2020-12-31'],
    ['2020-01-31', '2021-01-30'],
    ['2023-03-01', '2024-02-29'], // ends on a leap day
    ['2024-02-28', '2025-02-27'],
    ['2024-02-29', '2025-02-28'], // no 2/29 in 2025: the month's last day (民法143条)
    ['2028-02-29', '2029-02-28'],
  ])('starting %s ends %s', (start, end) => {
    expect(termEndOf(d(start))).toBe(end);
  });

  it('always lasts a year: 365 or 366 days, ending the day before the next start', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 60 }), (n) => {
        const start = addDays(plainDateOf(2000, 1, 1), n);
        const end = termEndOf(start);
        const days = daysBetween(start, end) + 1;
        expect(days === 365 || days === 366).toBe(true);
        expect(extendedTermOf(end).startsOn).toBe(addDays(end, 1));
      }),
    );
  });
});

describe('extension', () => {
  it('opens one month before the end (the term’s last month) and closes on the end day', () => {
    expect(extensionWindowOf(d('2021-03-31'))).toEqual({ opens: '2021-03-01', closes: '2021-03-31' });
    expect(extensionWindowOf(d('2025-02-28'))).toEqual({ opens: '2025-02-01', closes: '2025-02-28' });
    expect(extensionWindowOf(d('2025-02-27'))).toEqual({ opens: '2025-01-28', closes: '2025-02-27' });
  });

  it('gives another year from the day after the end', () => {
    expect(extendedTermOf(d('2021-03-31'))).toEqual({ startsOn: '2021-04-01', endsOn: '2022-03-31' });
    expect(extendedTermOf(d('2025-02-28'))).toEqual({ startsOn: '2025-03-01', endsOn: '2026-02-28' });
  });
});
