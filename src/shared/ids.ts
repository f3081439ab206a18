/**
 * Branded identifiers (domain.md §4), validated once at the edge. Each is a zod schema and a type of the
 * same name, plus a `parse…` function that throws a DomainError. Input is NFKC-normalised and trimmed
 * first, so full-width digits typed at the counter are accepted.
 */
import { z } from 'zod';
import { DomainError } from './errors.js';
import {
  lgCodeCheckDigit,
  myNumberCheckDigit,
  residentCodeCheckDigit,
  serialCheckDigit,
} from './checkDigit.js';

interface DigitIdSpec {
  /** Total length including the check digit. */
  readonly length: number;
  /** Check digit of the leading `length - 1` digits. */
  readonly checkDigitOf: (body: string) => number;
  /** Shown when the input is not `length` digits. */
  readonly formatMessage: string;
  /** Shown when the check digit does not match. */
  readonly checkMessage: string;
}

const MY_NUMBER_SPEC: DigitIdSpec = {
  length: 12,
  checkDigitOf: myNumberCheckDigit,
  formatMessage: '個人番号は12桁の数字で入力してください。',
  checkMessage: '個人番号の検査数字が正しくありません。12桁の番号を確認してください。',
};

const RESIDENT_CODE_SPEC: DigitIdSpec = {
  length: 11,
  checkDigitOf: residentCodeCheckDigit,
  formatMessage: '住民票コードは11桁の数字で入力してください。',
  checkMessage: '住民票コードの検査数字が正しくありません。11桁のコードを確認してください。',
};

const PERSON_NO_SPEC: DigitIdSpec = {
  length: 10,
  checkDigitOf: serialCheckDigit,
  formatMessage: '宛名番号は10桁の数字（9桁の番号と検査数字1桁）で入力してください。',
  checkMessage: '宛名番号の検査数字が正しくありません。10桁の番号を確認してください。',
};

const HOUSEHOLD_NO_SPEC: DigitIdSpec = {
  length: 10,
  checkDigitOf: serialCheckDigit,
  formatMessage: '世帯番号は10桁の数字（9桁の番号と検査数字1桁）で入力してください。',
  checkMessage: '世帯番号の検査数字が正しくありません。10桁の番号を確認してください。',
};

const LG_CODE_SPEC: DigitIdSpec = {
  length: 6,
  checkDigitOf: lgCodeCheckDigit,
  formatMessage: '団体コードは6桁の数字で入力してください。',
  checkMessage: '団体コードの検査数字が正しくありません。6桁のコードを確認してください。',
};

/** The message describing what is wrong with an already normalised input, or undefined if it is valid. */
function problemOf(spec: DigitIdSpec, s: string): string | undefined {
  if (s.length !== spec.length || !/^\d+$/.test(s)) return spec.formatMessage;
  const body = s.slice(0, -1);
  if (spec.checkDigitOf(body) !== Number(s.slice(-1))) return spec.checkMessage;
  return undefined;
}

/** One check (not a regex followed by a refine) so that exactly one message comes out per bad input. */
function digitIdSchema(spec: DigitIdSpec) {
  return z
    .string({ error: spec.formatMessage })
    .normalize('NFKC')
    .trim()
    .superRefine((s, ctx) => {
      const message = problemOf(spec, s);
      if (message !== undefined) ctx.addIssue({ code: 'custom', message });
    });
}

function parseWith<S extends z.ZodType>(
  schema: S,
  code: string,
  fallback: string,
  input: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new DomainError(code, result.error.issues[0]?.message ?? fallback);
}

/** 個人番号 (My Number): 11 digits + check digit. */
export const MyNumber = digitIdSchema(MY_NUMBER_SPEC).brand<'MyNumber'>();
export type MyNumber = z.infer<typeof MyNumber>;

/** 住民票コード: 10 digits + check digit. */
export const ResidentCode = digitIdSchema(RESIDENT_CODE_SPEC).brand<'ResidentCode'>();
export type ResidentCode = z.infer<typeof ResidentCode>;

/** 宛名番号: 9-digit zero-padded serial + check digit. */
export const PersonNo = digitIdSchema(PERSON_NO_SPEC).brand<'PersonNo'>();
export type PersonNo = z.infer<typeof PersonNo>;

/** 世帯番号: 9-digit zero-padded serial + check digit. */
export const HouseholdNo = digitIdSchema(HOUSEHOLD_NO_SPEC).brand<'HouseholdNo'>();
export type HouseholdNo = z.infer<typeof HouseholdNo>;

/** 地方公共団体コード: 5 digits + check digit. */
export const LgCode = digitIdSchema(LG_CODE_SPEC).brand<'LgCode'>();
export type LgCode = z.infer<typeof LgCode>;

export function parseMyNumber(s: string): MyNumber {
  return parseWith(MyNumber, 'INVALID_MY_NUMBER', MY_NUMBER_SPEC.formatMessage, s);
}

export function parseResidentCode(s: string): ResidentCode {
  return parseWith(ResidentCode, 'INVALID_RESIDENT_CODE', RESIDENT_CODE_SPEC.formatMessage, s);
}

export function parsePersonNo(s: string): PersonNo {
  return parseWith(PersonNo, 'INVALID_PERSON_NO', PERSON_NO_SPEC.formatMessage, s);
}

export function parseHouseholdNo(s: string): HouseholdNo {
  return parseWith(HouseholdNo, 'INVALID_HOUSEHOLD_NO', HOUSEHOLD_NO_SPEC.formatMessage, s);
}

export function parseLgCode(s: string): LgCode {
  return parseWith(LgCode, 'INVALID_LG_CODE', LG_CODE_SPEC.formatMessage, s);
}

const MAX_SERIAL = 999_999_999;

function numberFromSerial(serial: number, code: string, what: string): string {
  if (!Number.isSafeInteger(serial) || serial < 1 || serial > MAX_SERIAL) {
    throw new DomainError(
      code,
      `${what}の連番は1から999999999までの整数です。採番の設定を確認してください。`,
    );
  }
  const body = String(serial).padStart(9, '0');
  return body + String(serialCheckDigit(body));
}

/** The 宛名番号 for a serial (1..999,999,999), e.g. from a database sequence. */
export function personNoFromSerial(serial: number): PersonNo {
  return parsePersonNo(numberFromSerial(serial, 'INVALID_PERSON_NO', '宛名番号'));
}

/** The 世帯番号 for a serial (1..999,999,999), e.g. from a database sequence. */
export function householdNoFromSerial(serial: number): HouseholdNo {
  return parseHouseholdNo(numberFromSerial(serial, 'INVALID_HOUSEHOLD_NO', '世帯番号'));
}

/** The serial a 宛名番号 or 世帯番号 was made from (its digits without the check digit). */
export function serialOf(no: PersonNo | HouseholdNo): number {
  return Number(no.slice(0, -1));
}

/** Appends the check digit to 11 digits. For demo data and tests: real numbers come from J-LIS. */
export function myNumberFromBody(first11: string): MyNumber {
  const body = first11.normalize('NFKC').trim();
  if (!/^\d{11}$/.test(body)) {
    throw new DomainError('INVALID_MY_NUMBER', '個人番号の本体は11桁の数字です。');
  }
  return parseMyNumber(body + String(myNumberCheckDigit(body)));
}

/** Appends the check digit to 10 digits. For demo data and tests: real codes come from the prefecture. */
export function residentCodeFromBody(first10: string): ResidentCode {
  const body = first10.normalize('NFKC').trim();
  if (!/^\d{10}$/.test(body)) {
    throw new DomainError('INVALID_RESIDENT_CODE', '住民票コードの本体は10桁の数字です。');
  }
  return parseResidentCode(body + String(residentCodeCheckDigit(body)));
}
