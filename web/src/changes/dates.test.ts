import { describe, expect, it } from 'vitest';
import { interpretDate } from './dates.js';

describe('interpretDate', () => {
  it('reads era and Gregorian input', () => {
    expect(interpretDate('R6.4.1')).toBe('2024-04-01');
    expect(interpretDate('令和6年4月1日')).toBe('2024-04-01');
    expect(interpretDate('2024-04-01')).toBe('2024-04-01');
    expect(interpretDate('２０２４／４／１')).toBe('2024-04-01');
    expect(interpretDate('令和元年5月1日')).toBe('2019-05-01');
    expect(interpretDate('S50.4.1')).toBe('1975-04-01');
  });
  it('refuses what is not a real day of its era', () => {
    expect(interpretDate('R6.2.30')).toBeUndefined();
    expect(interpretDate('平成31年5月1日')).toBeUndefined();
    expect(interpretDate('令和3年5月上旬')).toBeUndefined();
    expect(interpretDate('')).toBeUndefined();
  });
});
