/**
 * Parsing at the trust boundary: a request that does not fit its schema becomes a DomainError carrying
 * the first refusal's code (e.g. INVALID_MY_NUMBER from a check digit) and its Japanese message, with the
 * field path; never the value itself, which may be personal data.
 */
import type { z } from 'zod';
import { DomainError } from '../shared/index.js';

export function issuesToError(issues: readonly z.core.$ZodIssue[]): DomainError {
  const first = issues[0];
  const path = first ? first.path.map(String).join('.') : '';
  const coded = first?.code === 'custom' ? (first.params as { code?: unknown } | undefined)?.code : undefined;
  const fields = issues.map((i) => ({ path: i.path.map(String).join('.'), message: messageOf(i) }));
  if (typeof coded === 'string' && first) {
    return new DomainError(coded, first.message, { path, fields });
  }
  return new DomainError(
    'INVALID_REQUEST',
    `入力内容に誤りがあります（${path || '全体'}: ${first ? messageOf(first) : ''}）。`,
    {
      path,
      fields,
    },
  );
}

/** Japanese wording of zod's generic issues (zod's own messages are English and may echo input). */
function messageOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? '必須項目です' : '形式が正しくありません';
    case 'too_small':
      return issue.origin === 'array' ? '件数が不足しています' : '入力が短すぎるか、未入力です';
    case 'too_big':
      return issue.origin === 'array' ? '件数が多すぎます' : '入力が長すぎます';
    case 'invalid_value':
    case 'invalid_union':
      return '選択できない値です';
    case 'invalid_format':
      return '形式が正しくありません';
    case 'unrecognized_keys':
      return '指定できない項目が含まれています';
    case 'custom':
      return issue.message;
    default:
      return '入力内容に誤りがあります';
  }
}

export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw issuesToError(result.error.issues);
  return result.data;
}
