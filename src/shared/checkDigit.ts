/**
 * Check digits of the numbers the register uses (domain.md §4). Each function takes the digits *without*
 * the check digit and returns it. Inputs must be ASCII digit strings of the right length; anything else is
 * a programming error upstream (ids.ts validates user input first), but it is still refused with a
 * DomainError rather than producing a wrong digit.
 */
import { DomainError } from './errors.js';

function digitsOf(s: string, length: number | undefined, what: string): number[] {
  const ok = length === undefined ? /^\d+$/.test(s) : s.length === length && /^\d+$/.test(s);
  if (!ok) {
    const expected = length === undefined ? '1桁以上の数字' : `${length}桁の数字`;
    throw new DomainError('INVALID_DIGITS', `${what}の検査数字を計算できません。${expected}が必要です。`);
  }
  return Array.from(s, (c) => c.charCodeAt(0) - 48);
}

function weightedSum(digits: readonly number[], weights: readonly number[]): number {
  return digits.reduce((sum, d, i) => sum + d * (weights[i] ?? 0), 0);
}

/** The common modulus-11 rule: remainder 0 or 1 gives 0, otherwise 11 − remainder. */
function mod11(sum: number): number {
  const r = sum % 11;
  return r <= 1 ? 0 : 11 - r;
}

const MY_NUMBER_WEIGHTS = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2] as const;
const RESIDENT_CODE_WEIGHTS = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2] as const;
const LG_CODE_WEIGHTS = [6, 5, 4, 3, 2] as const;

/** 個人番号: check digit of the first 11 digits (weights 6,5,4,3,2,7,6,5,4,3,2 left to right). */
export function myNumberCheckDigit(first11: string): number {
  return mod11(weightedSum(digitsOf(first11, 11, '個人番号'), MY_NUMBER_WEIGHTS));
}

/** 住民票コード: check digit of the first 10 digits (weights 5,4,3,2,7,6,5,4,3,2 left to right). */
export function residentCodeCheckDigit(first10: string): number {
  return mod11(weightedSum(digitsOf(first10, 10, '住民票コード'), RESIDENT_CODE_WEIGHTS));
}

/**
 * 宛名番号 / 世帯番号: modulus 11 with weights 2,3,4,5,6,7,2,3,… counted from the rightmost digit of the
 * serial. Leading zeros do not change the result, so padded and unpadded serials agree.
 */
export function serialCheckDigit(serial: string): number {
  const digits = digitsOf(serial, undefined, '宛名番号・世帯番号').reverse();
  const sum = digits.reduce((acc, d, i) => acc + d * ((i % 6) + 2), 0);
  return mod11(sum);
}

/**
 * 地方公共団体コード: weights 6,5,4,3,2 and check = (11 − r) mod 10. Unlike the modulus-11 rule above,
 * remainder 0 gives 1 and remainder 1 gives 0.
 */
export function lgCodeCheckDigit(first5: string): number {
  const r = weightedSum(digitsOf(first5, 5, '団体コード'), LG_CODE_WEIGHTS) % 11;
  return (11 - r) % 10;
}
