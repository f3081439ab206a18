/**
 * 続柄 (relationship to the head of household), a closed vocabulary (domain.md §2): 世帯主; the base terms;
 * chains of base terms joined with の, up to four links (子の子, 妻の父); 縁故者 (anyone farther); 同居人.
 */
import { z } from 'zod';
import { DomainError } from './errors.js';

export const HEAD_TERM = '世帯主';

/** Terms that may appear as links of a chain. */
export const BASE_RELATIONSHIPS = [
  '夫',
  '妻',
  '夫(未届)',
  '妻(未届)',
  '子',
  '父',
  '母',
  '兄',
  '姉',
  '弟',
  '妹',
] as const;

/** Terms that stand alone. */
export const STANDALONE_RELATIONSHIPS = [HEAD_TERM, '縁故者', '同居人'] as const;

export const MAX_CHAIN_LINKS = 4;

const BASE_SET: ReadonlySet<string> = new Set(BASE_RELATIONSHIPS);
const STANDALONE_SET: ReadonlySet<string> = new Set(STANDALONE_RELATIONSHIPS);

const ALLOWED_MESSAGE =
  '続柄は「世帯主」「夫」「妻」「夫(未届)」「妻(未届)」「子」「父」「母」「兄」「姉」「弟」「妹」、' +
  `これらを「の」でつないだもの（${MAX_CHAIN_LINKS}つまで。例: 子の子、妻の父）、「縁故者」「同居人」のいずれかで入力してください。`;

const TOO_LONG_MESSAGE = `続柄を「の」でつなげるのは${MAX_CHAIN_LINKS}つまでです。それより遠い親族は「縁故者」と入力してください。`;

/**
 * Common words that are not allowed, with the chain to use instead. Only words from this table appear in
 * messages (never the raw input).
 */
const FORBIDDEN_WORDS: ReadonlyMap<string, readonly string[]> = new Map([
  ['本人', ['世帯主']],
  ['孫', ['子の子']],
  ['ひ孫', ['子の子の子']],
  ['曾孫', ['子の子の子']],
  ['曽孫', ['子の子の子']],
  ['玄孫', ['子の子の子の子']],
  ['祖父', ['父の父', '母の父']],
  ['祖母', ['父の母', '母の母']],
  ['曾祖父', ['父の父の父', '母の父の父']],
  ['曽祖父', ['父の父の父', '母の父の父']],
  ['曾祖母', ['父の父の母', '母の父の母']],
  ['曽祖母', ['父の父の母', '母の父の母']],
  ['長男', ['子']],
  ['次男', ['子']],
  ['二男', ['子']],
  ['三男', ['子']],
  ['長女', ['子']],
  ['次女', ['子']],
  ['二女', ['子']],
  ['三女', ['子']],
  ['養子', ['子']],
  ['養女', ['子']],
  ['息子', ['子']],
  ['娘', ['子']],
  ['養父', ['父']],
  ['養母', ['母']],
  ['嫁', ['子の妻']],
  ['婿', ['子の夫']],
  ['義父', ['妻の父', '夫の父']],
  ['義母', ['妻の母', '夫の母']],
  ['配偶者', ['夫', '妻']],
  ['内縁の夫', ['夫(未届)']],
  ['内縁の妻', ['妻(未届)']],
  ['兄弟', ['兄', '弟']],
  ['姉妹', ['姉', '妹']],
  ['伯父', ['父の兄', '母の兄']],
  ['叔父', ['父の弟', '母の弟']],
  ['伯母', ['父の姉', '母の姉']],
  ['叔母', ['父の妹', '母の妹']],
  ['甥', ['兄の子', '弟の子', '姉の子', '妹の子']],
  ['姪', ['兄の子', '弟の子', '姉の子', '妹の子']],
  ['同居者', ['同居人']],
  ['縁故人', ['縁故者']],
]);

/** NFKC (full-width parentheses become ASCII) and no whitespace: '夫 （未届）' → '夫(未届)'. */
function normalizeRelationship(s: string): string {
  return s.normalize('NFKC').replace(/\s+/gu, '');
}

/** The message for a normalised input, or undefined when it is allowed. */
function relationshipProblem(s: string): string | undefined {
  if (STANDALONE_SET.has(s)) return undefined;
  const links = s.split('の');
  if (links.every((l) => BASE_SET.has(l))) {
    return links.length <= MAX_CHAIN_LINKS ? undefined : TOO_LONG_MESSAGE;
  }
  return forbiddenWordHint(s, links) ?? ALLOWED_MESSAGE;
}

/** '続柄に「孫」は使えません。「子の子」と入力してください。' when the input is, or contains, a known word. */
function forbiddenWordHint(whole: string, links: readonly string[]): string | undefined {
  const word = FORBIDDEN_WORDS.has(whole) ? whole : links.find((l) => FORBIDDEN_WORDS.has(l));
  if (word === undefined) return undefined;
  const options = (FORBIDDEN_WORDS.get(word) ?? []).map((o) => `「${o}」`).join('または');
  return `続柄に「${word}」は使えません。${options}のように入力してください。${ALLOWED_MESSAGE}`;
}

/** 続柄 in canonical form (NFKC, no spaces): '夫(未届)', '子の子'. */
export const Relationship = z
  .string({ error: ALLOWED_MESSAGE })
  .overwrite(normalizeRelationship)
  .superRefine((s, ctx) => {
    const message = relationshipProblem(s);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  })
  .brand<'Relationship'>();
export type Relationship = z.infer<typeof Relationship>;

export const HEAD = HEAD_TERM as Relationship;

/** Normalises and checks a 続柄; throws INVALID_RELATIONSHIP with what is allowed (and a hint for 孫, 祖父 …). */
export function parseRelationship(s: string): Relationship {
  const result = Relationship.safeParse(s);
  if (result.success) return result.data;
  throw new DomainError('INVALID_RELATIONSHIP', result.error.issues[0]?.message ?? ALLOWED_MESSAGE);
}

export function isHead(r: Relationship): boolean {
  return r === HEAD;
}
