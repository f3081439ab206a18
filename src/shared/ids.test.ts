import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import {
  HouseholdNo,
  LgCode,
  MyNumber,
  PersonNo,
  ResidentCode,
  householdNoFromSerial,
  myNumberFromBody,
  parseHouseholdNo,
  parseLgCode,
  parseMyNumber,
  parsePersonNo,
  parseResidentCode,
  personNoFromSerial,
  residentCodeFromBody,
  serialOf,
} from './ids.js';

const digits = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });

function errorOf(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe('MyNumber', () => {
  it('accepts a valid number, full-width digits and surrounding spaces', () => {
    expect(parseMyNumber('621498320257')).toBe('621498320257');
    expect(parseMyNumber('６２１４９８３２０２５７')).toBe('621498320257');
    expect(parseMyNumber(' \u3000621498320257 ')).toBe('621498320257');
    expect(MyNumber.parse('６２１４９８３２０２５７')).toBe('621498320257');
  });

  it('gives distinct messages for a bad format and a bad check digit, without echoing the input', () => {
    const format = errorOf(() => parseMyNumber('62149832025'));
    const check = errorOf(() => parseMyNumber('621498320258'));
    expect(format.code).toBe('INVALID_MY_NUMBER');
    expect(check.code).toBe('INVALID_MY_NUMBER');
    expect(format.message).not.toBe(check.message);
    expect(check.message).toContain('検査数字');
    for (const e of [format, check]) expect(e.message).not.toMatch(/6214983202/);
  });

  it('the schema reports the same message as the parse function', () => {
    const result = MyNumber.safeParse('621498320258');
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(result.error?.issues[0]?.message).toBe(errorOf(() => parseMyNumber('621498320258')).message);
    expect(MyNumber.safeParse('abc').error?.issues[0]?.message).toBe(
      errorOf(() => parseMyNumber('abc')).message,
    );
    expect(MyNumber.safeParse(621498320257).success).toBe(false);
  });

  it('myNumberFromBody makes a number every parse accepts; any other last digit is refused', () => {
    fc.assert(
      fc.property(digits(11), fc.integer({ min: 1, max: 9 }), (body, delta) => {
        const n = myNumberFromBody(body);
        expect(parseMyNumber(n)).toBe(n);
        const wrong = body + String((Number(n.slice(-1)) + delta) % 10);
        expect(() => parseMyNumber(wrong)).toThrow(DomainError);
      }),
    );
  });

  it('myNumberFromBody refuses a body of the wrong length', () => {
    expect(errorOf(() => myNumberFromBody('123')).code).toBe('INVALID_MY_NUMBER');
  });
});

describe('ResidentCode', () => {
  it('accepts a valid code and refuses a wrong check digit', () => {
    expect(parseResidentCode('01234567892')).toBe('01234567892');
    expect(residentCodeFromBody('0123456789')).toBe('01234567892');
    const e = errorOf(() => parseResidentCode('01234567893'));
    expect(e.code).toBe('INVALID_RESIDENT_CODE');
    expect(e.message).toContain('検査数字');
    expect(errorOf(() => parseResidentCode('0123456789')).message).not.toBe(e.message);
    expect(ResidentCode.safeParse('０１２３４５６７８９２').success).toBe(true);
  });

  it('round-trips every body', () => {
    fc.assert(
      fc.property(digits(10), (body) => parseResidentCode(residentCodeFromBody(body)).startsWith(body)),
    );
  });
});

describe('PersonNo and HouseholdNo', () => {
  it('are made from serials with a zero-padded body and a check digit', () => {
    expect(personNoFromSerial(1)).toBe('0000000019');
    expect(householdNoFromSerial(123456789)).toBe('1234567892');
    expect(parsePersonNo('0000000019')).toBe('0000000019');
    expect(parseHouseholdNo('１２３４５６７８９２')).toBe('1234567892');
  });

  it('round-trip serials', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 999_999_999 }), (serial) => {
        expect(serialOf(parsePersonNo(personNoFromSerial(serial)))).toBe(serial);
        expect(serialOf(parseHouseholdNo(householdNoFromSerial(serial)))).toBe(serial);
      }),
    );
  });

  it('refuse serials out of range', () => {
    for (const s of [0, -1, 1.5, 1_000_000_000, Number.NaN]) {
      expect(errorOf(() => personNoFromSerial(s)).code).toBe('INVALID_PERSON_NO');
      expect(errorOf(() => householdNoFromSerial(s)).code).toBe('INVALID_HOUSEHOLD_NO');
    }
  });

  it('refuse bad input with their own codes', () => {
    expect(errorOf(() => parsePersonNo('0000000018')).code).toBe('INVALID_PERSON_NO');
    expect(errorOf(() => parsePersonNo('000000019')).code).toBe('INVALID_PERSON_NO');
    expect(errorOf(() => parseHouseholdNo('1234567893')).code).toBe('INVALID_HOUSEHOLD_NO');
    expect(PersonNo.safeParse('0000000018').success).toBe(false);
    expect(HouseholdNo.safeParse('1234567892').success).toBe(true);
  });

  it('are distinct types', () => {
    const p = personNoFromSerial(1);
    // @ts-expect-error a PersonNo is not a HouseholdNo
    const h: HouseholdNo = p;
    expect(h).toBe(p);
  });
});

describe('LgCode', () => {
  it.each(['141003', '131016', '011002', '271004'])('accepts %s', (code) => {
    expect(parseLgCode(code)).toBe(code);
    expect(LgCode.safeParse(code).success).toBe(true);
  });

  it('refuses a wrong check digit or length', () => {
    const check = errorOf(() => parseLgCode('141004'));
    const format = errorOf(() => parseLgCode('14100'));
    expect(check.code).toBe('INVALID_LG_CODE');
    expect(format.code).toBe('INVALID_LG_CODE');
    expect(check.message).not.toBe(format.message);
  });
});
