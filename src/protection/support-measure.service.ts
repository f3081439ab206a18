/**
 * Support-measure operations (支援措置), all for the support-measures officer (permission `supportMeasure`):
 * application (a provisional measure runs while the application is decided), decision, rejection,
 * extension, termination notice, transfer on moving out, the details (encrypted at rest; every read is
 * logged) and the release of one case. Each act is one transaction with its event row and access-log entry.
 *
 * For other modules: `issuanceBlock` and `consumeCaseRelease` (certificates), `findProtectedPersons`
 * (monitoring), and the deadline job `raiseSupportMeasureAlerts`.
 */
import { sql, type Transaction } from 'kysely';
import { appendAccessLog, raiseAlert, type AuditContext } from '../audit/index.js';
import type { Database, Db } from '../db/index.js';
import {
  DomainError,
  NotFoundError,
  addDays,
  daysBetween,
  requirePermission,
  type Actor,
  type PlainDate,
} from '../shared/index.js';
import { decryptField, encryptField } from './crypto.js';
import { parseInput } from './parse.js';
import * as repo from './support-measure.repository.js';
import { insertOutbox, nextId, personExists, type Executor } from './suppression.repository.js';
import type { ProtectionSettings } from './suppression.service.js';
import {
  ApplyInput,
  BLOCKED_SERVICES,
  CaseDetails,
  CaseReleaseInput,
  DecideInput,
  Perpetrator,
  RejectInput,
  STATUS_LABEL,
  TerminateInput,
  TransferInput,
  extendedTermOf,
  extensionWindowOf,
  termEndOf,
  type BlockedService,
  type SupportMeasureDeadline,
  type SupportMeasureDetails,
  type SupportMeasureStatus,
  type SupportMeasureSummary,
} from './support-measure.js';

export const SUPPORT_MEASURE_TRANSFER_TOPIC = 'protection.supportMeasureTransfer';
/** Days before the end from which a measure is listed (and alerted) as ending soon. */
export const DEADLINE_NOTICE_DAYS = 30;

type Trx = Transaction<Database>;

function binding(lgCode: string, table: string, column: string, rowId: number) {
  return { lgCode, table, column, rowId };
}

function toSummary(r: repo.MeasureRow, protectedPersonNos: string[]): SupportMeasureSummary {
  return {
    measureId: r.measure_id,
    status: r.status,
    applicantPersonNo: r.person_no,
    protectedPersonNos,
    startsOn: r.starts_on,
    endsOn: r.ends_on,
    appliedOn: r.applied_on,
    decidedOn: r.decided_on,
    closedOn: r.closed_on,
    transferredTo: r.transferred_to,
    blockedServices: r.blocked_services.filter((s): s is BlockedService =>
      (BLOCKED_SERVICES as readonly string[]).includes(s),
    ),
  };
}

/** The support measure that blocks issuing a copy of this person's record to someone else, if any (provisional or active, blocking the service). */
export async function issuanceBlock(
  trx: Trx,
  lgCode: string,
  personNo: string,
  service: 'residentCopy' | 'kiosk',
  today: string,
): Promise<{ measureId: number } | undefined> {
  const measureId = await repo.findBlockingMeasure(trx, lgCode, personNo, service, today);
  return measureId === undefined ? undefined : { measureId };
}

/**
 * The officer releases one case: one later issuance for this measure may pass. Consumed (marked used, with
 * the issuance reference) by the certificates service in its transaction; returns false when no unused
 * release exists.
 */
export async function consumeCaseRelease(
  trx: Trx,
  lgCode: string,
  measureId: number,
  issuanceRef: string,
  now: Date,
): Promise<boolean> {
  return repo.useCaseRelease(trx, lgCode, measureId, issuanceRef, now);
}

/**
 * Provisional and active measures ending within `withinDays` of `today` (endingSoon) or already past their
 * end without an extension (ended: no longer protecting anyone — the officer should extend via a new
 * application or record the end).
 */
export async function supportMeasureDeadlines(
  db: Executor,
  lgCode: string,
  today: string,
  withinDays: number = DEADLINE_NOTICE_DAYS,
): Promise<SupportMeasureDeadline[]> {
  const rows = await repo.listEndingBy(db, lgCode, addDays(today as PlainDate, withinDays));
  return rows.map((r) => ({
    measureId: r.measure_id,
    applicantPersonNo: r.person_no,
    status: r.status as 'provisional' | 'active',
    endsOn: r.ends_on,
    kind: r.ends_on < today ? 'ended' : 'endingSoon',
    daysLeft: daysBetween(today as PlainDate, r.ends_on as PlainDate),
    extensionOpensOn: extensionWindowOf(r.ends_on as PlainDate).opens,
  }));
}

/**
 * The periodic job: raises one audit alert per measure and end date (ending soon; ended without
 * extension), under an advisory lock, and writes a batch entry to the access log. Running it again raises
 * nothing twice. `dryRun` counts without writing.
 */
export async function raiseSupportMeasureAlerts(
  db: Db,
  lgCode: string,
  ctx: AuditContext & { readonly withinDays?: number; readonly dryRun?: boolean },
): Promise<{ deadlines: number; raised: number }> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`jumin:supportMeasureAlerts:${lgCode}`}))`.execute(trx);
    const now = ctx.clock.now();
    const deadlines = await supportMeasureDeadlines(trx, lgCode, ctx.clock.today(), ctx.withinDays);
    if (ctx.dryRun) return { deadlines: deadlines.length, raised: 0 };
    let raised = 0;
    for (const d of deadlines) {
      const ok = await raiseAlert(trx, {
        lgCode,
        rule: d.kind === 'ended' ? 'supportMeasureEnded' : 'supportMeasureEnding',
        subject: `supportMeasure:${d.measureId}`,
        dedupeKey: `${d.measureId}|${d.endsOn}`,
        raisedAt: now,
        details: { measureId: d.measureId, endsOn: d.endsOn, daysLeft: d.daysLeft },
      });
      if (ok) raised += 1;
    }
    await appendAccessLog(
      trx,
      {
        lgCode,
        staffId: 'system',
        terminalId: 'server',
        function: 'batch',
        outcome: 'success',
        details: { job: 'supportMeasureAlerts', deadlines: deadlines.length, raised },
      },
      ctx,
    );
    return { deadlines: deadlines.length, raised };
  });
}

const statusError = (status: SupportMeasureStatus, action: string) =>
  new DomainError(
    'SUPPORT_MEASURE_STATUS',
    `この支援措置は「${STATUS_LABEL[status]}」のため、${action}できません。状態を確認してください。`,
    { status },
  );

export class SupportMeasureService {
  constructor(
    private readonly db: Db,
    private readonly settings: ProtectionSettings,
  ) {}

  private get clock() {
    return this.settings.audit.clock;
  }

  /** Runs an act of the officer; a refusal is logged in a transaction of its own. */
  private async run<T>(
    actor: Actor,
    action: string,
    measureId: number | undefined,
    work: (trx: Trx) => Promise<T>,
  ): Promise<T> {
    try {
      requirePermission(actor, 'supportMeasure');
      // Before the transaction: the first use in a municipality creates its data keys (own transaction).
      await this.settings.keyring.forMunicipality(actor.lgCode);
      return await this.db.transaction().execute(work);
    } catch (e) {
      if (e instanceof DomainError) {
        await this.db
          .transaction()
          .execute((trx) => this.log(trx, actor, { action, measureId, code: e.code }, [], 'refused'));
      }
      throw e;
    }
  }

  private async log(
    trx: Trx,
    actor: Actor,
    details: Record<string, unknown>,
    targetPersons: readonly string[],
    outcome: 'success' | 'refused' = 'success',
  ): Promise<void> {
    await appendAccessLog(
      trx,
      {
        lgCode: actor.lgCode,
        staffId: actor.staffId,
        terminalId: actor.terminalId,
        function: 'supportMeasure',
        targetPersons,
        outcome,
        details,
      },
      this.settings.audit,
    );
  }

  private async event(
    trx: Trx,
    actor: Actor,
    measureId: number,
    kind: repo.EventRow['kind'],
    e: Partial<Pick<repo.EventRow, 'starts_on' | 'ends_on' | 'transferred_to'>> = {},
  ): Promise<void> {
    await repo.insertEvent(trx, actor.lgCode, measureId, {
      kind,
      on_date: this.clock.today(),
      starts_on: e.starts_on ?? null,
      ends_on: e.ends_on ?? null,
      transferred_to: e.transferred_to ?? null,
      staff_id: actor.staffId,
      terminal_id: actor.terminalId,
      recorded_at: this.clock.now(),
    });
  }

  private async locked(trx: Trx, actor: Actor, measureId: number) {
    const m = await repo.lockMeasure(trx, actor.lgCode, measureId);
    if (!m) {
      throw new NotFoundError(
        'SUPPORT_MEASURE_NOT_FOUND',
        '指定された支援措置が見つかりません。番号を確認してください。',
        {
          measureId,
        },
      );
    }
    const others = await repo.listProtectedPersons(trx, actor.lgCode, [measureId]);
    return {
      m,
      persons: [m.person_no, ...others.map((o) => o.person_no)],
      others: others.map((o) => o.person_no),
    };
  }

  /** 申出: records the application and starts a provisional measure (仮措置) from the day of application. */
  async apply(actor: Actor, raw: ApplyInput): Promise<SupportMeasureSummary> {
    return this.run(actor, 'apply', undefined, async (trx) => {
      const input = parseInput(ApplyInput, raw);
      const today = this.clock.today();
      const appliedOn = input.appliedOn ?? today;
      if (appliedOn > today) {
        throw new DomainError('INVALID_APPLIED_ON', '申出日に未来の日付は入力できません。');
      }
      const personNos = [input.applicant.personNo, ...input.protectedPersons.map((p) => p.personNo)];
      for (const personNo of personNos) {
        if (!(await personExists(trx, actor.lgCode, personNo))) {
          throw new NotFoundError(
            'SUPPORT_MEASURE_PERSON_NOT_FOUND',
            '申出者または併せて支援を求める者の宛名番号に該当する住民が見つかりません。番号を確認してください。',
          );
        }
      }
      const endsOn = termEndOf(appliedOn);
      const measureId = await repo.insertMeasure(trx, {
        lgCode: actor.lgCode,
        personNo: input.applicant.personNo,
        startsOn: appliedOn,
        endsOn,
        appliedOn,
        blockedServices: [...new Set(input.blockedServices)],
        createdBy: actor.staffId,
        createdAt: this.clock.now(),
      });
      await repo.insertProtectedPersons(trx, actor.lgCode, measureId, personNos.slice(1));
      const key = this.settings.keyring;
      const details: CaseDetails = {
        reason: input.reason,
        applicantRelation: input.applicant.relation ?? null,
        protectedPersons: input.protectedPersons.map((p) => ({
          personNo: p.personNo,
          relation: p.relation ?? null,
        })),
        blockedServices: [...new Set(input.blockedServices)],
      };
      await repo.insertDetail(trx, {
        lg_code: actor.lgCode,
        measure_id: measureId,
        perpetrator: encryptField(
          key,
          JSON.stringify(input.perpetrator),
          binding(actor.lgCode, 'support_measure_detail', 'perpetrator', measureId),
        ),
        case_details: encryptField(
          key,
          JSON.stringify(details),
          binding(actor.lgCode, 'support_measure_detail', 'case_details', measureId),
        ),
      });
      await this.event(trx, actor, measureId, 'applied', { starts_on: appliedOn, ends_on: endsOn });
      await this.log(trx, actor, { action: 'apply', measureId }, personNos);
      const m = (await repo.findMeasure(trx, actor.lgCode, measureId))!;
      return toSummary(m, personNos.slice(1));
    });
  }

  /** 支援決定: the measure becomes active for one year from `startsOn` (today when omitted). */
  async decide(actor: Actor, measureId: number, raw: DecideInput = {}): Promise<SupportMeasureSummary> {
    return this.run(actor, 'decide', measureId, async (trx) => {
      const input = parseInput(DecideInput, raw);
      const { m, persons, others } = await this.locked(trx, actor, measureId);
      if (m.status !== 'provisional') throw statusError(m.status, '支援の決定');
      const today = this.clock.today();
      const startsOn = input.startsOn ?? today;
      const endsOn = termEndOf(startsOn);
      // The provisional measure runs from the application: keep the earlier start so no day goes uncovered.
      const set = {
        status: 'active' as const,
        starts_on: startsOn < m.starts_on ? startsOn : m.starts_on,
        ends_on: endsOn,
        decided_on: today,
      };
      await repo.updateMeasure(trx, actor.lgCode, measureId, set);
      await this.event(trx, actor, measureId, 'decided', { starts_on: startsOn, ends_on: endsOn });
      await this.log(trx, actor, { action: 'decide', measureId }, persons);
      return toSummary({ ...m, ...set }, others);
    });
  }

  /** 不支援: the application is rejected and the provisional measure ends now. */
  async reject(actor: Actor, measureId: number, raw: RejectInput = {}): Promise<SupportMeasureSummary> {
    return this.run(actor, 'reject', measureId, async (trx) => {
      parseInput(RejectInput, raw);
      const { m, persons, others } = await this.locked(trx, actor, measureId);
      if (m.status !== 'provisional') throw statusError(m.status, '不支援の決定');
      const set = { status: 'rejected' as const, closed_on: this.clock.today() };
      await repo.updateMeasure(trx, actor.lgCode, measureId, set);
      await this.event(trx, actor, measureId, 'rejected');
      await this.log(trx, actor, { action: 'reject', measureId }, persons);
      return toSummary({ ...m, ...set }, others);
    });
  }

  /** 延長: inside the window (the term's last month), another year from the day after the end. */
  async extend(actor: Actor, measureId: number): Promise<SupportMeasureSummary> {
    return this.run(actor, 'extend', measureId, async (trx) => {
      const { m, persons, others } = await this.locked(trx, actor, measureId);
      if (m.status !== 'active') throw statusError(m.status, '延長');
      const today = this.clock.today();
      const window = extensionWindowOf(m.ends_on as PlainDate);
      if (today < window.opens) {
        throw new DomainError(
          'EXTENSION_NOT_YET_OPEN',
          `延長の申出は支援期間の終了日の1か月前（${window.opens}）から受け付けます。`,
          { opensOn: window.opens, endsOn: m.ends_on },
        );
      }
      if (today > window.closes) {
        throw new DomainError(
          'EXTENSION_PERIOD_PASSED',
          '支援期間が終了しているため延長できません。改めて支援措置の申出を受け付けてください。',
          { endsOn: m.ends_on },
        );
      }
      const term = extendedTermOf(m.ends_on as PlainDate);
      await repo.updateMeasure(trx, actor.lgCode, measureId, { ends_on: term.endsOn });
      await this.event(trx, actor, measureId, 'extended', { starts_on: term.startsOn, ends_on: term.endsOn });
      await this.log(trx, actor, { action: 'extend', measureId }, persons);
      return toSummary({ ...m, ends_on: term.endsOn }, others);
    });
  }

  /** 終了通知: the measure ends today (also used to close a measure whose term ran out). */
  async terminate(actor: Actor, measureId: number, raw: TerminateInput = {}): Promise<SupportMeasureSummary> {
    return this.run(actor, 'terminate', measureId, async (trx) => {
      parseInput(TerminateInput, raw);
      const { m, persons, others } = await this.locked(trx, actor, measureId);
      if (m.status !== 'active' && m.status !== 'provisional') throw statusError(m.status, '終了');
      const set = { status: 'ended' as const, closed_on: this.clock.today() };
      await repo.updateMeasure(trx, actor.lgCode, measureId, set);
      await this.event(trx, actor, measureId, 'terminated');
      await this.log(trx, actor, { action: 'terminate', measureId }, persons);
      return toSummary({ ...m, ...set }, others);
    });
  }

  /**
   * 転出時の引継ぎ: the victim moves out; the measure is handed to the destination municipality (an outbox
   * message with numbers and dates only — the destination receives the details through its own channel)
   * and ends here.
   */
  async transfer(actor: Actor, measureId: number, raw: TransferInput): Promise<SupportMeasureSummary> {
    return this.run(actor, 'transfer', measureId, async (trx) => {
      const input = parseInput(TransferInput, raw);
      const { m, persons, others } = await this.locked(trx, actor, measureId);
      if (m.status !== 'active' && m.status !== 'provisional') throw statusError(m.status, '引継ぎ');
      if (input.destinationLgCode === actor.lgCode) {
        throw new DomainError(
          'INVALID_DESTINATION',
          '引継ぎ先には他の市区町村の団体コードを入力してください。',
        );
      }
      const transferredOn = input.transferredOn ?? this.clock.today();
      const set = {
        status: 'transferred' as const,
        closed_on: transferredOn,
        transferred_to: input.destinationLgCode,
      };
      await repo.updateMeasure(trx, actor.lgCode, measureId, set);
      await this.event(trx, actor, measureId, 'transferred', { transferred_to: input.destinationLgCode });
      await insertOutbox(trx, actor.lgCode, {
        topic: SUPPORT_MEASURE_TRANSFER_TOPIC,
        key: m.person_no,
        payload: {
          measureId,
          personNos: persons,
          destinationLgCode: input.destinationLgCode,
          transferredOn,
          status: m.status,
          startsOn: m.starts_on,
          endsOn: m.ends_on,
          blockedServices: m.blocked_services,
        },
      });
      await this.log(
        trx,
        actor,
        { action: 'transfer', measureId, destinationLgCode: input.destinationLgCode },
        persons,
      );
      return toSummary({ ...m, ...set }, others);
    });
  }

  /** The details (decrypted) with the measure's history. Officer only; every read is logged. */
  async details(actor: Actor, measureId: number): Promise<SupportMeasureDetails> {
    return this.run(actor, 'readDetails', measureId, async (trx) => {
      const m = await repo.findMeasure(trx, actor.lgCode, measureId);
      const detail = m && (await repo.findDetail(trx, actor.lgCode, measureId));
      if (!m || !detail) {
        throw new NotFoundError(
          'SUPPORT_MEASURE_NOT_FOUND',
          '指定された支援措置が見つかりません。番号を確認してください。',
          {
            measureId,
          },
        );
      }
      const key = this.settings.keyring;
      const perpetrator = Perpetrator.parse(
        JSON.parse(
          decryptField(
            key,
            detail.perpetrator,
            binding(actor.lgCode, 'support_measure_detail', 'perpetrator', measureId),
          ),
        ),
      );
      const caseDetails = CaseDetails.parse(
        JSON.parse(
          decryptField(
            key,
            detail.case_details,
            binding(actor.lgCode, 'support_measure_detail', 'case_details', measureId),
          ),
        ),
      );
      const others = (await repo.listProtectedPersons(trx, actor.lgCode, [measureId])).map(
        (o) => o.person_no,
      );
      const events = await repo.listEvents(trx, actor.lgCode, measureId);
      const releases = await repo.listCaseReleases(trx, actor.lgCode, measureId);
      await this.log(trx, actor, { action: 'readDetails', measureId }, [m.person_no, ...others]);
      return {
        ...toSummary(m, others),
        applicantRelation: caseDetails.applicantRelation,
        protectedPersons: caseDetails.protectedPersons,
        perpetrator,
        reason: caseDetails.reason,
        events: events.map((e) => ({
          kind: e.kind,
          onDate: e.on_date,
          startsOn: e.starts_on,
          endsOn: e.ends_on,
          transferredTo: e.transferred_to,
          staffId: e.staff_id,
          recordedAt: e.recorded_at,
        })),
        caseReleases: releases.map((r) => ({
          releaseId: r.release_id,
          reason: decryptField(
            key,
            r.reason,
            binding(actor.lgCode, 'support_measure_case_release', 'reason', r.release_id),
          ),
          releasedBy: r.released_by,
          releasedAt: r.released_at,
          usedAt: r.used_at,
          issuanceRef: r.issuance_ref,
        })),
      };
    });
  }

  /** Measures ending soon or ended without extension (a logged read: it names the applicants). */
  async deadlines(actor: Actor): Promise<SupportMeasureDeadline[]> {
    return this.run(actor, 'deadlines', undefined, async (trx) => {
      const list = await supportMeasureDeadlines(trx, actor.lgCode, this.clock.today());
      await this.log(
        trx,
        actor,
        { action: 'deadlines', count: list.length },
        list.map((d) => d.applicantPersonNo),
      );
      return list;
    });
  }

  /**
   * Releases one case (1件限りの解除): one later issuance for this measure may pass, e.g. to a creditor with a
   * court's order. The certificates service consumes it with consumeCaseRelease.
   */
  async releaseCase(actor: Actor, measureId: number, raw: CaseReleaseInput): Promise<{ releaseId: number }> {
    return this.run(actor, 'releaseCase', measureId, async (trx) => {
      const input = parseInput(CaseReleaseInput, raw);
      const { m, persons } = await this.locked(trx, actor, measureId);
      if (m.status !== 'active' && m.status !== 'provisional') throw statusError(m.status, '1件限りの解除');
      const releaseId = await nextId(trx, 'support_measure_case_release', 'release_id');
      await repo.insertCaseRelease(trx, {
        lg_code: actor.lgCode,
        release_id: releaseId,
        measure_id: measureId,
        reason: encryptField(
          this.settings.keyring,
          input.reason,
          binding(actor.lgCode, 'support_measure_case_release', 'reason', releaseId),
        ),
        released_by: actor.staffId,
        released_at: this.clock.now(),
      });
      await this.event(trx, actor, measureId, 'caseReleased');
      await this.log(trx, actor, { action: 'releaseCase', measureId, releaseId }, persons);
      return { releaseId };
    });
  }
}
