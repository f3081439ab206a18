/**
 * Text normalisation for name and address search (domain.md §5): katakana and hiragana, full and half width,
 * and old and new character forms (異体字) match each other.
 */

/**
 * Old or variant forms (異体字・旧字) mapped to the form used for matching. Applied after NFKC, which already
 * folds most CJK compatibility ideographs (e.g. U+F9DC 隆); the entries here are separate characters (or the
 * compatibility ideographs NFKC leaves alone, such as U+FA11 﨑) that registers commonly hold for surnames.
 */
const VARIANTS: Readonly<Record<string, string>> = {
  髙: '高',
  '\uFA11': '崎', // 﨑 (compatibility ideograph without an NFKC mapping)
  嵜: '崎',
  碕: '崎',
  邊: '辺',
  邉: '辺',
  齋: '斎',
  齊: '斎',
  斉: '斎',
  澤: '沢',
  濱: '浜',
  濵: '浜',
  國: '国',
  櫻: '桜',
  廣: '広',
  德: '徳',
  實: '実',
  惠: '恵',
  藏: '蔵',
  眞: '真',
  壽: '寿',
  冨: '富',
  嶋: '島',
  嶌: '島',
  槗: '橋',
  舘: '館',
  瀨: '瀬',
  條: '条',
  曾: '曽',
  淺: '浅',
  戶: '戸',
  靑: '青',
  黑: '黒',
  綠: '緑',
  萬: '万',
  與: '与',
  龜: '亀',
  榮: '栄',
  圓: '円',
  關: '関',
  團: '団',
  鐵: '鉄',
  來: '来',
  亞: '亜',
  兒: '児',
  晉: '晋',
  淸: '清',
  禮: '礼',
  傳: '伝',
  佛: '仏',
  豐: '豊',
  鷗: '鴎',
  邨: '村',
  峯: '峰',
  嶽: '岳',
  埜: '野',
  '\uFA10': '塚', // 塚 (compatibility ideograph without an NFKC mapping)
  步: '歩',
  涉: '渉',
  藝: '芸',
  學: '学',
  會: '会',
  濟: '済',
  應: '応',
  當: '当',
  發: '発',
  縣: '県',
  聰: '聡',
  寬: '寛',
  穗: '穂',
  恆: '恒',
  彌: '弥',
  爲: '為',
  驒: '騨',
  巖: '巌',
  嚴: '厳',
  樂: '楽',
  澁: '渋',
  觀: '観',
  顯: '顕',
  讓: '譲',
  稻: '稲',
  螢: '蛍',
  鄕: '郷',
  '𠮷': '吉',
};

/** Ideographic variation selectors (IVS, U+E0100–E01EF) and standard variation selectors (U+FE00–FE0F). */
const VARIATION_SELECTORS = /[\u{E0100}-\u{E01EF}\uFE00-\uFE0F]/gu;

/**
 * Separators ignored when matching names: whitespace, middle dots, hyphens and dashes, the double hyphen
 * and equals sign of foreign names, apostrophes, periods and commas. The long vowel mark ー is kept (it is
 * part of the reading), as is the kanji 一.
 */
const IGNORED = /[\s・·‧･\-‐‑‒–—―−゠=＝'’.,]/gu;

const KATAKANA_FIRST = 0x30a1; // ァ
const KATAKANA_LAST = 0x30f6; // ヶ
const HIRAGANA_FIRST = 0x3041; // ぁ
const HIRAGANA_LAST = 0x3096; // ゖ
const KANA_OFFSET = 0x60;

function mapCodePoints(s: string, f: (cp: number) => number): string {
  let out = '';
  for (const ch of s) out += String.fromCodePoint(f(ch.codePointAt(0) ?? 0));
  return out;
}

/** Katakana to hiragana (ヴ → ゔ, ヽヾ → ゝゞ). Other characters, including half-width katakana, are unchanged. */
export function toHiragana(s: string): string {
  return mapCodePoints(s, (cp) =>
    (cp >= KATAKANA_FIRST && cp <= KATAKANA_LAST) || cp === 0x30fd || cp === 0x30fe ? cp - KANA_OFFSET : cp,
  );
}

/** Hiragana to katakana (ゔ → ヴ, ゝゞ → ヽヾ). Other characters are unchanged. */
export function toKatakana(s: string): string {
  return mapCodePoints(s, (cp) =>
    (cp >= HIRAGANA_FIRST && cp <= HIRAGANA_LAST) || cp === 0x309d || cp === 0x309e ? cp + KANA_OFFSET : cp,
  );
}

/** Hiragana, katakana (full or half width), voicing marks, ー. */
const KANA_CHAR = /[\u3041-\u3096\u3099-\u309F\u30A1-\u30FA\u30FC-\u30FF\uFF66-\uFF9F]/u;
const KANA_TEXT = /^[\u3041-\u3096\u3099-\u309F\u30A1-\u30FA\u30FC-\u30FF\uFF66-\uFF9F\s・]+$/u;

/**
 * True when the text is a reading: only kana, the long vowel mark, spaces between words and the middle dot
 * of foreign names, with at least one kana.
 */
export function isKana(s: string): boolean {
  return KANA_TEXT.test(s) && KANA_CHAR.test(s);
}

/**
 * The form names, readings and addresses are compared in: variation selectors removed, NFKC (width unified,
 * half-width katakana made full-width), katakana as hiragana, lower-case letters, separators removed, and
 * old character forms mapped to new ones. Small kana stay small (ッ and ツ differ in a reading).
 */
export function normalizeForSearch(s: string): string {
  // NFKC again once the separators are gone: combining marks they kept apart now meet and must be put in
  // canonical order (or composed), else the result would normalise differently a second time.
  const folded = toHiragana(s.replace(VARIATION_SELECTORS, '').normalize('NFKC'))
    .toLowerCase()
    .replace(IGNORED, '')
    .normalize('NFKC');
  let out = '';
  // for…of walks code points, so surrogate pairs such as 𠮷 stay whole.
  for (const ch of folded) out += VARIANTS[ch] ?? ch;
  return out;
}

/** Latin-letter names (foreign residents): NFKC, upper case, single spaces, trimmed. */
export function normalizeLatinName(s: string): string {
  return s.normalize('NFKC').toUpperCase().replace(/\s+/gu, ' ').trim();
}
