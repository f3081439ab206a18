import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  lgCodeCheckDigit,
  myNumberCheckDigit,
  residentCodeCheckDigit,
  serialCheckDigit,
} from './checkDigit.js';
import { DomainError } from './errors.js';

const digits = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });

describe('myNumberCheckDigit', () => {
  it('matches the documented example 621498320257', () => {
    expect(myNumberCheckDigit('62149832025')).toBe(7);
  });

  it('gives 0 when the remainder is 0 or 1', () => {
    expect(myNumberCheckDigit('00000000000')).toBe(0); // r = 0
    expect(myNumberCheckDigit('00000000006')).toBe(0); // 6·2 = 12, r = 1
    expect(myNumberCheckDigit('00000000001')).toBe(9); // r = 2
  });

  it('equals the right-to-left 2..7 serial rule on 11 digits (the same weights, read the other way)', () => {
    fc.assert(fc.property(digits(11), (s) => myNumberCheckDigit(s) === serialCheckDigit(s)));
  });

  it.each(['6214983202', '621498320257', '6214983202a', '６２１４９８３２０２５', ''])('refuses %j', (s) => {
    expect(() => myNumberCheckDigit(s)).toThrow(DomainError);
  });
});

describe('residentCodeCheckDigit', () => {
  it('computes weights 5,4,3,2,7,6,5,4,3,2', () => {
    // 0·5+1·4+2·3+3·2+4·7+5·6+6·5+7·4+8·3+9·2 = 174, 174 mod 11 = 9, 11 − 9 = 2
    expect(residentCodeCheckDigit('0123456789')).toBe(2);
  });

  it('equals the serial rule on 10 digits', () => {
    fc.assert(fc.property(digits(10), (s) => residentCodeCheckDigit(s) === serialCheckDigit(s)));
  });

  it('refuses a wrong length', () => {
    expect(() => residentCodeCheckDigit('012345678')).toThrow(DomainError);
  });
});

describe('serialCheckDigit', () => {
  it('weights 2,3,4,5,6,7,2,… from the rightmost digit', () => {
    expect(serialCheckDigit('1')).toBe(9); // 1·2 = 2 → 9
    expect(serialCheckDigit('000000001')).toBe(9);
    // 9·2+8·3+7·4+6·5+5·6+4·7+3·2+2·3+1·4 = 174 → r 9 → 2
    expect(serialCheckDigit('123456789')).toBe(2);
    expect(serialCheckDigit('000000000')).toBe(0);
  });

  it('is not changed by leading zeros', () => {
    fc.assert(
      fc.property(digits(9), fc.integer({ min: 1, max: 5 }), (s, n) => {
        return serialCheckDigit('0'.repeat(n) + s) === serialCheckDigit(s);
      }),
    );
  });

  it('always gives a single digit', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 30 }), (s) => {
        const d = serialCheckDigit(s);
        return Number.isInteger(d) && d >= 0 && d <= 9;
      }),
    );
  });

  it('refuses non-digits and the empty string', () => {
    expect(() => serialCheckDigit('')).toThrow(DomainError);
    expect(() => serialCheckDigit('12-34')).toThrow(DomainError);
  });
});

describe('lgCodeCheckDigit', () => {
  it.each([
    ['14100', 3], // 横浜市 141003
    ['13101', 6], // 千代田区 131016
    ['01100', 2], // 札幌市 011002
    ['27100', 4], // 大阪市 271004
  ])('%s → %i', (body, check) => {
    expect(lgCodeCheckDigit(body)).toBe(check);
  });

  it('uses (11 − r) mod 10, unlike the modulus-11 rule', () => {
    expect(lgCodeCheckDigit('00000')).toBe(1); // r = 0 → 1 (My Number rule would give 0)
    expect(lgCodeCheckDigit('00006')).toBe(0); // 6·2 = 12, r = 1 → 0
    expect(lgCodeCheckDigit('00001')).toBe(9); // r = 2 → 9
  });

  it('refuses a wrong length', () => {
    expect(() => lgCodeCheckDigit('141003')).toThrow(DomainError);
  });
});
