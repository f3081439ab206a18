/**
 * What auditors do, for the HTTP routes: search the log, list and acknowledge alerts, seal a checkpoint,
 * verify the chain. Each operation checks the logReview permission (the route hook checks it too: two
 * locks), stays within the auditor's municipality, and is itself logged in the same transaction.
 */
import type { KeyObject } from 'node:crypto';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { DomainError, hasPermission, type Actor, type Clock } from '../shared/index.js';
import type { AuditContext } from './access-log.js';
import {
  appendAccessLog,
  AccessLogQuery,
  searchAccessLog,
  type AccessLogPage,
} from './access-log.service.js';
import { acknowledgeAlert, AlertQuery, listAlerts, type AlertPage, type AlertView } from './alert.service.js';
import type { AuditKey } from './audit-key.js';
import { sealCheckpoint, sealDetails, type Checkpoint } from './checkpoint.js';
import { parseAuditInput } from './parse.js';
import { verifyAccessLog, type ChainVerification } from './verify.js';

export interface AuditServiceDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Pick<Config, 'monitoring'>;
  readonly key: AuditKey;
  /** Earlier public keys, to verify checkpoints sealed before a key rotation. */
  readonly formerPublicKeys?: readonly KeyObject[];
}

export class AuditService {
  private readonly ctx: AuditContext;

  constructor(private readonly deps: AuditServiceDeps) {
    this.ctx = { clock: deps.clock, monitoring: deps.config.monitoring };
  }

  async searchLog(actor: Actor, raw: unknown): Promise<AccessLogPage> {
    requireLogReview(actor);
    const q = parseAuditInput(AccessLogQuery, raw);
    return this.deps.db.transaction().execute(async (trx) => {
      const page = await searchAccessLog(trx, actor.lgCode, q);
      await appendAccessLog(
        trx,
        {
          ...by(actor),
          function: 'auditSearch',
          outcome: 'success',
          // The person searched for is a target, not a criterion: it is then found by person searches too.
          ...(q.personNo ? { targetPersons: [q.personNo] } : {}),
          criteria: {
            resource: 'accessLog',
            staffId: q.staffId,
            function: q.function,
            outcome: q.outcome,
            from: q.from,
            to: q.to,
            page: q.page,
          },
          details: { results: page.entries.length, total: page.total },
        },
        this.ctx,
      );
      return page;
    });
  }

  async listAlerts(actor: Actor, raw: unknown): Promise<AlertPage> {
    requireLogReview(actor);
    const q = parseAuditInput(AlertQuery, raw);
    return this.deps.db.transaction().execute(async (trx) => {
      const page = await listAlerts(trx, actor.lgCode, q);
      await appendAccessLog(
        trx,
        {
          ...by(actor),
          function: 'auditSearch',
          outcome: 'success',
          criteria: {
            resource: 'alerts',
            rule: q.rule,
            staffId: q.staffId,
            acknowledged: q.acknowledged,
            from: q.from,
            to: q.to,
            page: q.page,
          },
          details: { results: page.alerts.length, total: page.total },
        },
        this.ctx,
      );
      return page;
    });
  }

  async acknowledge(actor: Actor, alertId: number, note: string | undefined): Promise<AlertView> {
    requireLogReview(actor);
    return this.deps.db
      .transaction()
      .execute((trx) => acknowledgeAlert(trx, actor.lgCode, alertId, actor, note, this.ctx));
  }

  /** Seals the auditor's municipality now: a checkpoint per lane with new entries (none if nothing is new). */
  async sealNow(actor: Actor): Promise<Checkpoint[]> {
    requireLogReview(actor);
    return this.deps.db.transaction().execute(async (trx) => {
      const checkpoints = await sealCheckpoint(trx, actor.lgCode, this.deps.key, this.deps.clock);
      // Logged after sealing: the entry falls into the next checkpoint.
      await appendAccessLog(
        trx,
        { ...by(actor), function: 'checkpoint', outcome: 'success', details: sealDetails(checkpoints) },
        this.ctx,
      );
      return checkpoints;
    });
  }

  async verify(actor: Actor): Promise<ChainVerification> {
    requireLogReview(actor);
    const report = await verifyAccessLog(this.deps.db, actor.lgCode, [
      this.deps.key.publicKey,
      ...(this.deps.formerPublicKeys ?? []),
    ]);
    const chain = report.municipalities[0] ?? {
      lgCode: actor.lgCode,
      ok: true,
      entries: 0,
      checkpoints: 0,
      lanes: [],
      problems: [],
    };
    await this.deps.db.transaction().execute((trx) =>
      appendAccessLog(
        trx,
        {
          ...by(actor),
          function: 'auditSearch',
          outcome: 'success',
          criteria: { resource: 'verification' },
          details: { ok: chain.ok, entries: chain.entries, problems: chain.problems.length },
        },
        this.ctx,
      ),
    );
    return chain;
  }
}

function by(actor: Actor) {
  return { lgCode: actor.lgCode, staffId: actor.staffId, terminalId: actor.terminalId };
}

function requireLogReview(actor: Actor): void {
  if (!hasPermission(actor, 'logReview')) {
    throw new DomainError('FORBIDDEN', 'この操作を行う権限がありません（ログ確認）。', {
      permission: 'logReview',
    });
  }
}
