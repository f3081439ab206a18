/**
 * Alerts for auditors: list and filter them, acknowledge them (once, with a note). Acknowledging is itself
 * a logged act.
 */
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/index.js';
import { DomainError, NotFoundError } from '../shared/index.js';
import type { AuditContext } from './access-log.js';
import {
  findAlertForUpdate,
  markAcknowledged,
  searchAlerts,
  type AlertRow,
  type Executor,
} from './access-log.repository.js';
import { appendAccessLog } from './access-log.service.js';
import { ALERT_RULE_LABEL, AlertRule } from './monitoring.js';
import { parseAuditInput } from './parse.js';

const Instant = z.iso.datetime({ offset: true });

export const AlertQuery = z.object({
  rule: AlertRule.optional(),
  staffId: z.string().min(1).max(64).optional(),
  /** true: acknowledged only; false: open only. Query strings carry it as text. */
  acknowledged: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
  from: Instant.optional(),
  to: Instant.optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(50),
});
export type AlertQuery = z.input<typeof AlertQuery>;

export const AlertView = z.object({
  alertId: z.number(),
  rule: z.string(),
  ruleLabel: z.string(),
  staffId: z.string().nullable(),
  subject: z.string(),
  raisedAt: z.string(),
  entrySeq: z.number().nullable(),
  details: z.record(z.string(), z.unknown()),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  acknowledgementNote: z.string().nullable(),
});
export type AlertView = z.infer<typeof AlertView>;

export const AlertPage = z.object({
  total: z.number(),
  page: z.number(),
  pageSize: z.number(),
  alerts: z.array(AlertView),
});
export type AlertPage = z.infer<typeof AlertPage>;

export const AcknowledgementInput = z.object({
  /** The auditor's finding; must not hold residents' names or numbers. */
  note: z.string().trim().max(1000).optional(),
});

function rowToAlert(r: AlertRow): AlertView {
  return {
    alertId: Number(r.alert_id),
    rule: r.rule,
    ruleLabel: (ALERT_RULE_LABEL as Record<string, string>)[r.rule] ?? r.rule,
    staffId: r.staff_id,
    subject: r.subject,
    raisedAt: new Date(r.raised_at).toISOString(),
    entrySeq: r.entry_seq === null ? null : Number(r.entry_seq),
    details: r.details,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: r.acknowledged_at === null ? null : new Date(r.acknowledged_at).toISOString(),
    acknowledgementNote: r.acknowledgement_note,
  };
}

/** Newest first. */
export async function listAlerts(db: Executor, lgCode: string, query: AlertQuery): Promise<AlertPage> {
  const q = parseAuditInput(AlertQuery, query);
  const { rows, total } = await searchAlerts(
    db,
    lgCode,
    {
      rule: q.rule,
      staffId: q.staffId,
      acknowledged: q.acknowledged,
      from: q.from === undefined ? undefined : new Date(q.from),
      to: q.to === undefined ? undefined : new Date(q.to),
    },
    { offset: (q.page - 1) * q.pageSize, limit: q.pageSize },
  );
  return { total, page: q.page, pageSize: q.pageSize, alerts: rows.map(rowToAlert) };
}

/**
 * Acknowledges an open alert of the municipality and logs the act (function alertAcknowledged) in the
 * same transaction. An alert is acknowledged once; the database refuses any other change to it.
 */
export async function acknowledgeAlert(
  trx: Transaction<Database>,
  lgCode: string,
  alertId: number,
  auditor: { readonly staffId: string; readonly terminalId: string },
  note: string | undefined,
  ctx: AuditContext,
): Promise<AlertView> {
  const { note: cleanNote } = parseAuditInput(AcknowledgementInput, { note });
  const alert = await findAlertForUpdate(trx, lgCode, alertId);
  if (!alert) {
    throw new NotFoundError('ALERT_NOT_FOUND', '指定されたアラートは見つかりません。', { alertId });
  }
  if (alert.acknowledged_at !== null) {
    throw new DomainError('ALERT_ALREADY_ACKNOWLEDGED', 'このアラートは既に確認済みです。', { alertId });
  }
  const row = await markAcknowledged(
    trx,
    lgCode,
    alertId,
    auditor.staffId,
    ctx.clock.now(),
    cleanNote || null,
  );
  await appendAccessLog(
    trx,
    {
      lgCode,
      staffId: auditor.staffId,
      terminalId: auditor.terminalId,
      function: 'alertAcknowledged',
      outcome: 'success',
      details: { alertId, rule: alert.rule, entrySeq: alert.entry_seq },
    },
    ctx,
  );
  return rowToAlert(row);
}
