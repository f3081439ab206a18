/**
 * Parsing at the audit module's trust boundary: input that does not fit its schema becomes a DomainError
 * naming the field, never echoing the value (it may be personal data).
 */
import type { z } from 'zod';
import { DomainError } from '../shared/index.js';

export function parseAuditInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const fields = result.error.issues.map((i) => i.path.map(String).join('.') || '全体');
  throw new DomainError('INVALID_REQUEST', `入力内容に誤りがあります（${fields.join('、')}）。`, { fields });
}
