import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import {
  BASE_RELATIONSHIPS,
  HEAD,
  Relationship,
  STANDALONE_RELATIONSHIPS,
  isHead,
  parseRelationship,
} from './relationship.js';

function errorOf(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

const chain = (min: number, max: number) =>
  fc
    .array(fc.constantFrom(...BASE_RELATIONSHIPS), { minLength: min, maxLength: max })
    .map((l) => l.join('の'));

describe('parseRelationship', () => {
  it.each([
    ...BASE_RELATIONSHIPS,
    ...STANDALONE_RELATIONSHIPS,
    '子の子',
    '妻の父',
    '子の子の子の子',
    '妻(未届)の子',
  ])('accepts %s', (r) => {
    expect(parseRelationship(r)).toBe(r);
  });

  it.each([
    ['夫（未届）', '夫(未届)'],
    ['妻 (未届)', '妻(未届)'],
    ['夫(未届）', '夫(未届)'],
    [' 子の子 ', '子の子'],
    ['子\u3000の子', '子の子'],
  ])('normalises %j to %s', (input, expected) => {
    expect(parseRelationship(input)).toBe(expected);
  });

  it('every chain of 1 to 4 base links is accepted', () => {
    fc.assert(fc.property(chain(1, 4), (r) => parseRelationship(r) === r));
  });

  it('every chain of 5 links is refused, pointing to 縁故者', () => {
    fc.assert(
      fc.property(chain(5, 5), (r) => {
        const e = errorOf(() => parseRelationship(r));
        return e.code === 'INVALID_RELATIONSHIP' && e.message.includes('縁故者');
      }),
    );
  });

  it('a string with a character outside the vocabulary is refused', () => {
    const vocabulary = new Set([...BASE_RELATIONSHIPS, ...STANDALONE_RELATIONSHIPS, 'の'].join(''));
    const outsider = fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' }).filter((c) => {
      const n = c.normalize('NFKC').replace(/\s/gu, '');
      return n !== '' && [...n].some((ch) => !vocabulary.has(ch));
    });
    fc.assert(
      fc.property(chain(0, 3), outsider, chain(0, 3), (a, c, b) => {
        return errorOf(() => parseRelationship(a + c + b)).code === 'INVALID_RELATIONSHIP';
      }),
    );
  });

  it.each([
    ['孫', '子の子'],
    ['祖父', '父の父'],
    ['祖母', '父の母'],
    ['長男', '子'],
    ['孫の妻', '子の子'],
  ])('suggests the chain for %s', (word, suggestion) => {
    const e = errorOf(() => parseRelationship(word));
    expect(e.code).toBe('INVALID_RELATIONSHIP');
    expect(e.message).toContain(`「${suggestion}」`);
  });

  it.each(['', '世帯主の子', '子の', 'の子', '子のの子', '縁故者の子', 'son'])('refuses %j', (r) => {
    const e = errorOf(() => parseRelationship(r));
    expect(e.code).toBe('INVALID_RELATIONSHIP');
    expect(e.message).toContain('縁故者');
  });

  it('the schema reports the same message', () => {
    expect(Relationship.safeParse('孫').error?.issues[0]?.message).toBe(
      errorOf(() => parseRelationship('孫')).message,
    );
    expect(Relationship.parse('夫（未届）')).toBe('夫(未届)');
  });
});

describe('isHead', () => {
  it('is true only for 世帯主', () => {
    expect(HEAD).toBe('世帯主');
    expect(isHead(parseRelationship(' 世帯主 '))).toBe(true);
    expect(isHead(parseRelationship('妻'))).toBe(false);
  });
});
