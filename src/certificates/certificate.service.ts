/**
 * Certificate issuance: who may obtain what, suppression and support measures, rendering, the issuance
 * record and its access-log entry — in one transaction. A refusal rolls everything back and is then logged
 * in a transaction of its own (a refused support-measure subject with the fact that raises the alert).
 */
import { z } from 'zod';
import { appendAccessLog, type AccessLogInput, type AuditContext } from '../audit/index.js';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import {
  findMunicipalityName,
  issuesToError,
  loadCertificateSource,
  type CertificateSource,
} from '../registry/index.js';
import {
  DomainError,
  NotFoundError,
  PersonNo,
  PlainDate,
  formatJapaneseDate,
  requirePermission,
  type Actor,
  type Clock,
} from '../shared/index.js';
import {
  CertificateItem,
  CertificateRequest,
  CertificateType,
  checkHouseholdMember,
  checkMoveOutRequester,
  checkRequester,
  checkSubjectsFitType,
  feeOf,
  issueNumberOf,
  type CertificateRequestInput,
  type Requester,
} from './certificate.js';
import { certificateFontPath, loadCertificateFont } from './certificate.font.js';
import { checkSuppression, consumeCaseRelease, issuanceBlock } from './certificate.protection.js';
import { loadSealImage, renderCertificate } from './certificate.render.js';
import * as repo from './certificate.repository.js';

export type CertificateSettings = Config['certificates'];

/** An issuance as the history shows it. `status` is `voided` once a disposal has been appended. */
export interface IssuanceView {
  issuanceId: number;
  issuedAt: string;
  issuedOn: string;
  issueNumber: string;
  serial: number;
  place: string;
  terminalId: string;
  printerId: string;
  staffId: string;
  type: CertificateType;
  requesterType: Requester['type'];
  requester: Record<string, unknown>;
  householdNo: string;
  subjects: string[];
  items: CertificateItem[];
  withHistory: boolean;
  sheets: number;
  fee: number;
  official: boolean;
  myNumberPrinted: boolean;
  status: 'issued' | 'voided';
  disposal?: { disposalId: number; disposedAt: string; staffId: string; terminalId: string; reason: string };
}

export interface IssuedCertificate {
  issuance: IssuanceView;
  pdf: Buffer;
}

export const IssuanceQuery = z.object({
  from: PlainDate.optional(),
  to: PlainDate.optional(),
  personNo: PersonNo.optional(),
  staffId: z.string().min(1).max(64).optional(),
  type: CertificateType.optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});
export type IssuanceQuery = z.input<typeof IssuanceQuery>;

export interface IssuancePage {
  total: number;
  page: number;
  pageSize: number;
  issuances: IssuanceView[];
}

export const VoidInput = z.object({ reason: z.string().trim().min(1).max(500) });
export type VoidInput = z.input<typeof VoidInput>;

function parse<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw issuesToError(r.error.issues);
  return r.data;
}

function rowToView(r: repo.IssuanceRow): IssuanceView {
  return {
    issuanceId: r.issuance_id,
    issuedAt: r.issued_at.toISOString(),
    issuedOn: r.issued_on,
    issueNumber: r.issue_number,
    serial: r.serial,
    place: r.place,
    terminalId: r.terminal_id,
    printerId: r.printer_id,
    staffId: r.staff_id,
    type: CertificateType.parse(r.certificate_type),
    requesterType: r.requester_type as Requester['type'],
    requester: r.requester,
    householdNo: r.household_no,
    subjects: r.subject_persons,
    items: r.items.map((i) => CertificateItem.parse(i)),
    withHistory: r.with_history,
    sheets: r.sheets,
    fee: r.fee,
    official: r.official,
    myNumberPrinted: r.my_number_printed,
    status: r.disposal_id === null ? 'issued' : 'voided',
    ...(r.disposal_id !== null
      ? {
          disposal: {
            disposalId: r.disposal_id,
            disposedAt: r.disposed_at!.toISOString(),
            staffId: r.disposed_by!,
            terminalId: r.disposal_terminal_id!,
            reason: r.disposal_reason!,
          },
        }
      : {}),
  };
}

/** What a request resolved to, before it is rendered and recorded. */
interface Prepared {
  request: CertificateRequest;
  source: CertificateSource;
  subjects: string[];
  municipality: string;
  supportMeasureSubject: boolean;
  suppressionAlerts: number;
  myNumberPrinted: boolean;
}

/** The persons a request concerns, for the log entry of a refusal (known as soon as the source loads). */
interface RefusalContext {
  subjects: string[];
}

const SUPPORT_MEASURE_REFUSED = 'SUPPORT_MEASURE_REFUSED';

export class CertificateService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditContext,
    private readonly settings: CertificateSettings,
    private readonly keyring: Keyring,
  ) {}

  /** The font certificates are rendered with (parsed on first use, once per process). */
  font() {
    return loadCertificateFont(certificateFontPath(this.settings.font));
  }

  /**
   * Renders the certificate a request would give, marked 見本, recording no issuance and using no
   * support-measure case release; logged as an inquiry (details.preview).
   */
  async preview(actor: Actor, raw: CertificateRequestInput): Promise<{ pdf: Buffer; pages: number }> {
    return this.refusable(actor, raw, 'inquiry', async (trx, ctx) => {
      const p = await this.prepare(trx, actor, raw, ctx, undefined);
      const rendered = await this.render(p, actor, undefined);
      await this.log(trx, actor, {
        function: 'inquiry',
        purpose: '証明書の交付',
        outcome: 'success',
        targetPersons: p.subjects,
        myNumberAccessed: p.myNumberPrinted,
        details: { preview: true, certificateType: p.request.type, pages: rendered.pages },
        facts: { supportMeasureSubject: p.supportMeasureSubject },
      });
      return rendered;
    });
  }

  /** Issues a certificate: checks, renders, records the issuance and logs it, in one transaction. */
  async issue(actor: Actor, raw: CertificateRequestInput): Promise<IssuedCertificate> {
    return this.refusable(actor, raw, 'issuance', async (trx, ctx) => {
      const now = this.clock.now();
      const issuedOn = this.clock.today();
      // The serial is taken first: a support-measure case release is consumed against this issuance.
      const serial = await repo.nextSerial(trx, actor.lgCode, issuedOn);
      const p = await this.prepare(trx, actor, raw, ctx, serial);
      const { pdf, pages, issueNumber } = await this.render(p, actor, serial);
      const issuanceId = await repo.insertIssuance(trx, {
        lg_code: actor.lgCode,
        issued_at: now,
        issued_on: issuedOn,
        serial,
        issue_number: issueNumber,
        place: p.municipality,
        terminal_id: actor.terminalId,
        printer_id: p.request.printerId,
        staff_id: actor.staffId,
        certificate_type: p.request.type,
        requester_type: p.request.requester.type,
        requester: { ...p.request.requester },
        household_no: p.source.householdNo,
        subject_persons: p.subjects,
        items: p.request.items,
        with_history: p.request.withHistory,
        sheets: pages,
        fee: feeOf(p.request.type, p.request.requester, this.settings.fees),
        official: p.request.requester.type === 'government',
        my_number_printed: p.myNumberPrinted,
      });
      await this.log(trx, actor, {
        function: 'issuance',
        outcome: 'success',
        targetPersons: p.subjects,
        myNumberAccessed: p.myNumberPrinted,
        myNumberPrinted: p.myNumberPrinted,
        details: {
          issuanceId,
          certificateType: p.request.type,
          requesterType: p.request.requester.type,
          items: p.request.items,
          sheets: pages,
          ...(p.suppressionAlerts > 0 ? { suppressionAlertsConfirmed: p.suppressionAlerts } : {}),
        },
        facts: { supportMeasureSubject: p.supportMeasureSubject },
      });
      const row = await repo.findIssuance(trx, actor.lgCode, issuanceId);
      return { issuance: rowToView(row!), pdf };
    });
  }

  async listIssuances(actor: Actor, raw: IssuanceQuery = {}): Promise<IssuancePage> {
    requirePermission(actor, 'certificate');
    const q = parse(IssuanceQuery, raw);
    const { rows, total } = await repo.searchIssuances(
      this.db,
      actor.lgCode,
      { from: q.from, to: q.to, personNo: q.personNo, staffId: q.staffId, type: q.type },
      { offset: (q.page - 1) * q.pageSize, limit: q.pageSize },
    );
    return { total, page: q.page, pageSize: q.pageSize, issuances: rows.map(rowToView) };
  }

  async getIssuance(actor: Actor, issuanceId: number): Promise<IssuanceView> {
    requirePermission(actor, 'certificate');
    const row = await repo.findIssuance(this.db, actor.lgCode, issuanceId);
    if (!row) throw issuanceNotFound();
    return rowToView(row);
  }

  /** 誤交付の廃棄: appends a disposal to the issuance (which itself never changes) and logs it. */
  async voidIssuance(actor: Actor, issuanceId: number, raw: VoidInput): Promise<IssuanceView> {
    requirePermission(actor, 'certificate');
    const { reason } = parse(VoidInput, raw);
    return this.db.transaction().execute(async (trx) => {
      const row = await repo.findIssuance(trx, actor.lgCode, issuanceId);
      if (!row) throw issuanceNotFound();
      if (row.disposal_id !== null) {
        throw new DomainError('ALREADY_VOIDED', 'この証明書は既に廃棄（無効）として記録されています。');
      }
      const disposalId = await repo.insertDisposal(trx, {
        lgCode: actor.lgCode,
        issuanceId,
        disposedAt: this.clock.now(),
        staffId: actor.staffId,
        terminalId: actor.terminalId,
        reason,
      });
      await this.log(trx, actor, {
        function: 'issuance',
        outcome: 'success',
        targetPersons: row.subject_persons,
        details: { voided: issuanceId, disposalId },
      });
      return rowToView((await repo.findIssuance(trx, actor.lgCode, issuanceId))!);
    });
  }

  /** Who may obtain what: every rule, suppression and support measure, in the caller's transaction. */
  private async prepare(
    trx: repo.Trx,
    actor: Actor,
    raw: CertificateRequestInput,
    ctx: RefusalContext,
    serial: number | undefined,
  ): Promise<Prepared> {
    requirePermission(actor, 'certificate');
    const request = parse(CertificateRequest, raw);
    ctx.subjects = [...(request.personNos ?? [])];
    checkRequester(request.requester, request.items);
    checkMoveOutRequester(request.type, request.requester);
    if (request.type === 'removedRecordCopy' && !request.personNos) {
      throw new DomainError(
        'PERSONS_REQUIRED',
        '除票の写しは、対象の方の宛名番号を指定して請求してください。',
      );
    }
    const source = await loadCertificateSource(
      trx,
      actor.lgCode,
      {
        householdNo: request.personNos ? undefined : request.householdNo,
        personNos: request.personNos,
        withHistory: request.withHistory,
      },
      this.keyring.loaded(actor.lgCode),
    );
    const subjects = source.subjects.map((s) => s.record.personNo as string);
    ctx.subjects = subjects;
    if (request.householdNo !== undefined && request.householdNo !== source.householdNo) {
      throw new DomainError(
        'NOT_IN_HOUSEHOLD',
        '指定された方は指定された世帯の世帯員ではありません。世帯番号と宛名番号を確認してください。',
      );
    }
    checkSubjectsFitType(
      request.type,
      source.subjects.map(({ record: r }) => ({
        removed: r.status !== 'current',
        movingOut: r.plannedMoveOut !== undefined || r.status === 'movedOut',
      })),
    );
    const requester = request.requester;
    if (requester.type === 'self') {
      const own = source.subjects.find((s) => s.record.personNo === requester.personNo)?.record;
      const record =
        own ??
        (
          await loadCertificateSource(
            trx,
            actor.lgCode,
            {
              personNos: [requester.personNo],
              withHistory: false,
            },
            this.keyring.loaded(actor.lgCode),
          ).catch((e: unknown) => {
            if (e instanceof NotFoundError) {
              throw new NotFoundError(
                'REQUESTER_NOT_FOUND',
                '請求者の宛名番号の方が見つかりません。請求者の宛名番号を確認してください。',
              );
            }
            throw e;
          })
        ).subjects[0]!.record;
      checkHouseholdMember(
        { personNo: record.personNo, householdNo: record.householdNo, current: record.status === 'current' },
        { personNos: subjects, householdNo: source.householdNo },
      );
    }

    const now = this.clock.now();
    const today = this.clock.today();
    const hits = await checkSuppression(
      trx,
      actor.lgCode,
      {
        process: 'certificate',
        personNos: subjects,
        householdNos: [source.householdNo],
        confirmed: request.confirmed,
      },
      now,
      today,
    );

    let supportMeasureSubject = false;
    for (const personNo of subjects) {
      const block = await issuanceBlock(trx, actor.lgCode, personNo, 'residentCopy', today);
      if (!block) continue;
      supportMeasureSubject = true;
      if (requester.type === 'self' && requester.personNo === personNo) continue;
      const released =
        serial !== undefined &&
        (await consumeCaseRelease(
          trx,
          actor.lgCode,
          block.measureId,
          `${actor.lgCode}:${today}:${serial}`,
          now,
        ));
      if (!released) {
        throw new DomainError(
          SUPPORT_MEASURE_REFUSED,
          'この証明書は交付できません。対象の方に支援措置が講じられています。支援措置担当にご確認ください。',
        );
      }
    }

    const municipality = (await findMunicipalityName(trx, actor.lgCode)) ?? actor.lgCode;
    const myNumberPrinted =
      request.items.includes('myNumber') && source.subjects.some((s) => s.record.myNumber !== undefined);
    return {
      request,
      source,
      subjects,
      municipality,
      supportMeasureSubject,
      suppressionAlerts: hits.length,
      myNumberPrinted,
    };
  }

  private async render(p: Prepared, actor: Actor, serial: number | undefined) {
    const issuedOn = this.clock.today();
    const issueNumber = issueNumberOf({
      issuedOnLabel: formatJapaneseDate(issuedOn),
      municipality: p.municipality,
      terminalId: actor.terminalId,
      printerId: p.request.printerId,
      serial,
    });
    const rendered = await renderCertificate({
      type: p.request.type,
      municipality: p.municipality,
      mayorTitle: this.settings.mayorTitle,
      sealPng: loadSealImage(this.settings.sealImage),
      font: this.font(),
      issuedAt: this.clock.now(),
      issuedOn,
      issueNumber,
      official: p.request.requester.type === 'government',
      preview: serial === undefined,
      items: new Set(p.request.items),
      head: p.source.head,
      subjects: p.source.subjects,
    });
    return { ...rendered, issueNumber };
  }

  private async log(
    trx: repo.Trx,
    actor: Actor,
    entry: Omit<AccessLogInput, 'lgCode' | 'staffId' | 'terminalId'>,
  ): Promise<void> {
    await appendAccessLog(
      trx,
      { lgCode: actor.lgCode, staffId: actor.staffId, terminalId: actor.terminalId, ...entry },
      this.audit,
    );
  }

  /**
   * Runs the work in one transaction. A refusal rolls it back and is logged in a transaction of its own,
   * naming the persons concerned; a support-measure refusal carries the fact that raises the alert.
   */
  private async refusable<T>(
    actor: Actor,
    raw: unknown,
    fn: 'issuance' | 'inquiry',
    work: (trx: repo.Trx, ctx: RefusalContext) => Promise<T>,
  ): Promise<T> {
    const ctx: RefusalContext = { subjects: [] };
    try {
      // Before the transaction: the first use in a municipality creates its data keys (own transaction).
      await this.keyring.forMunicipality(actor.lgCode);
      return await this.db.transaction().execute((trx) => work(trx, ctx));
    } catch (e) {
      if (e instanceof DomainError) {
        const subjects = ctx.subjects.length > 0 ? ctx.subjects : personNosOf(raw);
        await this.db.transaction().execute((trx) =>
          this.log(trx, actor, {
            function: fn,
            outcome: 'refused',
            targetPersons: subjects,
            details: { code: e.code, ...(fn === 'inquiry' ? { preview: true } : {}) },
            ...(e.code === SUPPORT_MEASURE_REFUSED ? { facts: { supportMeasureSubject: true } } : {}),
          }),
        );
      }
      throw e;
    }
  }
}

function issuanceNotFound(): NotFoundError {
  return new NotFoundError(
    'ISSUANCE_NOT_FOUND',
    '指定された交付記録が見つかりません。交付番号を確認してください。',
  );
}

/** Well-formed 宛名番号 the raw request names, never other input. */
function personNosOf(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const list = (raw as { personNos?: unknown }).personNos;
  if (!Array.isArray(list)) return [];
  return list.filter((c): c is string => typeof c === 'string' && PersonNo.safeParse(c).success);
}
