/**
 * Parsing at the protection module's trust boundary: input that does not fit its schema becomes a
 * DomainError naming the fields, never echoing the values (they may be personal data).
 */
import type { z } from 'zod';
import { DomainError } from '../shared/index.js';

export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const coded = first?.code === 'custom' ? (first.params as { code?: unknown } | undefined)?.code : undefined;
  const fields = result.error.issues.map((i) => i.path.map(String).join('.') || '全体');
  if (typeof coded === 'string' && first) throw new DomainError(coded, first.message, { fields });
  throw new DomainError('INVALID_REQUEST', `入力内容に誤りがあります（${fields.join('、')}）。`, { fields });
}
