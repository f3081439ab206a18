import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKana, normalizeForSearch, normalizeLatinName, toHiragana, toKatakana } from './kana.js';

describe('normalizeForSearch', () => {
  it.each([
    ['ヤマダ タロウ', 'やまだたろう'],
    ['ﾔﾏﾀﾞ ﾀﾛｳ', 'やまだたろう'],
    ['やまだ\u3000たろう', 'やまだたろう'],
    ['ガッコウ', 'がっこう'], // small kana kept
    ['ジョン・スミス', 'じょんすみす'],
    ['ｼﾞｮﾝ･ｽﾐｽ', 'じょんすみす'],
    ['メアリー', 'めありー'], // ー kept
    ['ヴァイオレット', 'ゔぁいおれっと'],
    ['ＳＭＩＴＨ Ｊｏｈｎ', 'smithjohn'],
    ['Smith-Jones', 'smithjones'],
    ['山田　一郎', '山田一郎'], // the kanji 一 is not a dash
    ['髙橋', '高橋'],
    ['髙槗', '高橋'],
    ['山﨑', '山崎'],
    ['山嵜', '山崎'],
    ['渡邊', '渡辺'],
    ['渡邉', '渡辺'],
    ['齋藤', '斎藤'],
    ['齊藤', '斎藤'],
    ['斉藤', '斎藤'],
    ['澤田', '沢田'],
    ['濱田', '浜田'],
    ['國府田', '国府田'],
    ['櫻井', '桜井'],
    ['廣瀬', '広瀬'],
    ['德川', '徳川'],
    ['嶋田', '島田'],
    ['舘野', '館野'],
    ['龍之介', '龍之介'],
    ['𠮷野', '吉野'],
    ['𠮷', '吉'],
    ['葛\u{E0100}飾', '葛飾'], // IVS stripped
    ['辻\uFE00', '辻'],
    ['隆', '隆'], // U+F9DC folded by NFKC
    ['\uFA10本', '塚本'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeForSearch(input)).toBe(expected);
  });

  it('makes katakana, half-width katakana and hiragana match', () => {
    expect(normalizeForSearch('スズキ')).toBe(normalizeForSearch('すずき'));
    expect(normalizeForSearch('ｽｽﾞｷ')).toBe(normalizeForSearch('すずき'));
  });

  it('is idempotent where removing a separator brings combining marks together', () => {
    // Under NFKC U+1D15E is U+1D157 U+1D165, and U+FE74 is a space and U+064D: with the space removed the
    // two marks must be reordered by their combining classes. The second is a voiced mark after a separator.
    for (const s of ['\u{1D15E}\uFE74', 'か・\u3099']) {
      const once = normalizeForSearch(s);
      expect(normalizeForSearch(once)).toBe(once);
    }
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const once = normalizeForSearch(s);
        return normalizeForSearch(once) === once;
      }),
    );
  });

  it('keeps surrogate pairs whole', () => {
    expect(normalizeForSearch('𩸽')).toBe('𩸽');
    expect([...normalizeForSearch('𠮷田𩸽')]).toEqual(['吉', '田', '𩸽']);
  });
});

describe('kana helpers', () => {
  it('converts between hiragana and katakana', () => {
    expect(toHiragana('カタカナ・ヴ・ヶ・ー')).toBe('かたかな・ゔ・ゖ・ー');
    expect(toKatakana('ひらがな ゔ ゝ')).toBe('ヒラガナ ヴ ヽ');
    expect(toHiragana('漢字ABC')).toBe('漢字ABC');
  });

  it('round-trips hiragana through katakana', () => {
    const hiragana = fc.string({
      unit: fc.integer({ min: 0x3041, max: 0x3096 }).map((cp) => String.fromCodePoint(cp)),
    });
    fc.assert(fc.property(hiragana, (s) => toHiragana(toKatakana(s)) === s));
  });

  it('recognises readings', () => {
    expect(isKana('ヤマダ タロウ')).toBe(true);
    expect(isKana('やまだ　たろう')).toBe(true);
    expect(isKana('ｽﾐｽ')).toBe(true);
    expect(isKana('ジョン・スミス')).toBe(true);
    expect(isKana('山田')).toBe(false);
    expect(isKana('ヤマダ1')).toBe(false);
    expect(isKana('')).toBe(false);
    expect(isKana(' ')).toBe(false);
  });

  it('normalises Latin names', () => {
    expect(normalizeLatinName('  ｓｍｉｔｈ　 john  ')).toBe('SMITH JOHN');
    expect(normalizeLatinName('van der Berg')).toBe('VAN DER BERG');
  });
});
