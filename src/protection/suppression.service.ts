/**
 * Suppression (抑止) operations and enforcement. Setting, releasing and temporarily releasing need three
 * separate permissions; each act writes its access-log entry in its own transaction, and every set or
 * release of a certificate-process suppression writes an outbox message (kiosk issuance and Juki-net
 * consume it). Temporary releases are local: they lapse by themselves and send nothing.
 */
import type { Compilable, Transaction } from 'kysely';
import { appendAccessLog, type AuditContext } from '../audit/index.js';
import type { Database, Db } from '../db/index.js';
import {
  DomainError,
  NotFoundError,
  requirePermission,
  type Actor,
  type Permission,
} from '../shared/index.js';
import type { Keyring } from '../keys/index.js';
import { decryptField, encryptField } from './crypto.js';
import { parseInput } from './parse.js';
import * as repo from './suppression.repository.js';
import {
  PROCESS_LABEL,
  ReleaseInput,
  SetSuppressionInput,
  SuppressionQuery,
  isExpired,
  type SuppressedProcess,
  type SuppressionHit,
  type SuppressionView,
} from './suppression.js';

export const ISSUANCE_SUPPRESSION_TOPIC = 'protection.issuanceSuppression';

const MINUTE_MS = 60_000;

/** What the protection services need besides the database. */
export interface ProtectionSettings {
  readonly audit: AuditContext;
  /** The municipalities' data keys (src/keys). */
  readonly keyring: Keyring;
  /** Minutes a temporary release lasts (config.suppressionReleaseMinutes). */
  readonly suppressionReleaseMinutes: number;
}

function rowToHit(r: repo.SuppressionRow, today: string): SuppressionHit {
  return {
    suppressionId: r.suppression_id,
    personNo: r.person_no,
    householdNo: r.household_no,
    process: r.process,
    level: r.level,
    startsOn: r.starts_on,
    endsOn: r.ends_on,
    expired: isExpired(r.ends_on, today),
  };
}

/** What a service checks for suppression: the process, the persons and households it touches. */
export interface SuppressionCheck {
  process: SuppressedProcess;
  personNos: readonly string[];
  householdNos: readonly string[];
  confirmed?: boolean;
}

/**
 * Enforces suppression inside a service, in its transaction. Throws SUPPRESSED when an error-level
 * suppression is in force for any person or household given; SUPPRESSION_CONFIRMATION_REQUIRED (details:
 * the alert-level suppressions) when alert-level ones are and the clerk has not confirmed; returns the
 * alert-level hits it let through, for the caller to log.
 */
export async function checkSuppression(
  trx: Transaction<Database>,
  lgCode: string,
  input: SuppressionCheck,
  now: Date,
  today: string,
): Promise<SuppressionHit[]> {
  const rows = (await repo.inForceQuery(trx, lgCode, input, now, today, input.process)?.execute()) ?? [];
  return judgeSuppression(rows, input, today);
}

/** `checkSuppression` in two steps, for a service that sends the look-up with other statements. */
export interface SuppressionLookUp {
  /** The look-up (undefined when there is nothing to look for), for `pipelined`. */
  readonly statement: Compilable<unknown> | undefined;
  /** Throws or returns as `checkSuppression` does, given the rows the statement gave, passed on unread. */
  judge(rows: readonly unknown[]): SuppressionHit[];
}

export function suppressionLookUp(
  trx: Transaction<Database>,
  lgCode: string,
  input: SuppressionCheck,
  now: Date,
  today: string,
): SuppressionLookUp {
  const statement = repo.inForceQuery(trx, lgCode, input, now, today, input.process);
  return {
    statement,
    // The rows are the statement's own: they never leave this module as anything a caller could read.
    judge: (rows) => judgeSuppression(rows as readonly repo.SuppressionRow[], input, today),
  };
}

function judgeSuppression(
  rows: readonly repo.SuppressionRow[],
  input: SuppressionCheck,
  today: string,
): SuppressionHit[] {
  const hits = rows.map((r) => rowToHit(r, today));
  const summary = (h: SuppressionHit) => ({
    suppressionId: h.suppressionId,
    level: h.level,
    process: h.process,
  });
  const errors = hits.filter((h) => h.level === 'error');
  if (errors.length > 0) {
    throw new DomainError(
      'SUPPRESSED',
      `対象の住民または世帯に${PROCESS_LABEL[input.process]}の抑止（エラー）が設定されているため、処理できません。抑止の担当者に確認してください。`,
      { suppressions: errors.map(summary) },
    );
  }
  const alerts = hits.filter((h) => h.level === 'alert');
  if (alerts.length > 0 && input.confirmed !== true) {
    throw new DomainError(
      'SUPPRESSION_CONFIRMATION_REQUIRED',
      `対象の住民または世帯に${PROCESS_LABEL[input.process]}の抑止（警告）が設定されています。内容を確認のうえ、処理を続ける場合は確認済みとして再度実行してください。`,
      { suppressions: alerts.map(summary) },
    );
  }
  return alerts;
}

/** For display in search results and inquiry: suppressions in force per person (including their household's). */
export async function suppressionsByPerson(
  db: repo.Executor,
  lgCode: string,
  persons: ReadonlyArray<{ personNo: string; householdNo: string }>,
  now: Date,
  today: string,
): Promise<Map<string, SuppressionHit[]>> {
  const result = new Map<string, SuppressionHit[]>(persons.map((p) => [p.personNo, []]));
  const rows =
    (await repo
      .inForceQuery(
        db,
        lgCode,
        {
          personNos: [...new Set(persons.map((p) => p.personNo))],
          householdNos: [...new Set(persons.map((p) => p.householdNo).filter(Boolean))],
        },
        now,
        today,
      )
      ?.execute()) ?? [];
  for (const p of persons) {
    const hits = rows
      .filter(
        (r) => r.person_no === p.personNo || (r.household_no !== null && r.household_no === p.householdNo),
      )
      .map((r) => rowToHit(r, today));
    result.set(p.personNo, hits);
  }
  return result;
}

export class SuppressionService {
  constructor(
    private readonly db: Db,
    private readonly settings: ProtectionSettings,
  ) {}

  private get clock() {
    return this.settings.audit.clock;
  }

  /**
   * Runs an act under a permission. A refusal is logged too — in a transaction of its own, since the
   * act's transaction rolled back.
   */
  private async run<T>(
    actor: Actor,
    permission: Permission,
    action: string,
    work: (trx: Transaction<Database>) => Promise<T>,
  ): Promise<T> {
    try {
      requirePermission(actor, permission);
      // Before the transaction: the first use in a municipality creates its data keys (own transaction).
      await this.settings.keyring.forMunicipality(actor.lgCode);
      return await this.db.transaction().execute(work);
    } catch (e) {
      if (e instanceof DomainError) {
        await this.db
          .transaction()
          .execute((trx) => this.log(trx, actor, { action, code: e.code }, [], 'refused'));
      }
      throw e;
    }
  }

  private async log(
    trx: Transaction<Database>,
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
        function: 'suppression',
        targetPersons,
        outcome,
        details,
      },
      this.settings.audit,
    );
  }

  private binding(lgCode: string, table: 'suppression' | 'suppression_release', rowId: number) {
    return { lgCode, table, column: 'reason', rowId };
  }

  /** 抑止の設定. */
  async set(actor: Actor, raw: SetSuppressionInput): Promise<SuppressionHit> {
    return this.run(actor, 'suppression', 'set', async (trx) => {
      const input = parseInput(SetSuppressionInput, raw);
      const personNo = 'personNo' in input.target ? input.target.personNo : null;
      const householdNo = 'householdNo' in input.target ? input.target.householdNo : null;
      const exists =
        personNo !== null
          ? await repo.personExists(trx, actor.lgCode, personNo)
          : await repo.householdExists(trx, actor.lgCode, householdNo!);
      if (!exists) {
        throw new NotFoundError(
          'SUPPRESSION_TARGET_NOT_FOUND',
          personNo !== null
            ? '指定された宛名番号の住民が見つかりません。番号を確認してください。'
            : '指定された世帯番号の世帯が見つかりません。番号を確認してください。',
        );
      }
      const id = await repo.nextId(trx, 'suppression', 'suppression_id');
      const row: repo.SuppressionRow = {
        suppression_id: id,
        person_no: personNo,
        household_no: householdNo,
        process: input.process,
        level: input.level,
        starts_on: input.startsOn,
        ends_on: input.endsOn ?? null,
        reason: new Uint8Array(),
        set_by: actor.staffId,
        set_at: this.clock.now(),
      };
      await repo.insertSuppression(trx, {
        ...row,
        lg_code: actor.lgCode,
        reason: encryptField(
          this.settings.keyring,
          input.reason,
          this.binding(actor.lgCode, 'suppression', id),
        ),
      });
      if (row.process === 'certificate') await this.propagate(trx, actor, row, 'set');
      await this.log(
        trx,
        actor,
        { action: 'set', suppressionId: id, process: row.process, level: row.level, householdNo },
        personNo ? [personNo] : [],
      );
      return rowToHit(row, this.clock.today());
    });
  }

  /** 抑止の解除: the suppression stops for good (and linked systems are told, for issuance). */
  async release(actor: Actor, suppressionId: number, raw: ReleaseInput): Promise<{ suppressionId: number }> {
    return this.run(actor, 'suppressionRelease', 'release', async (trx) => {
      const input = parseInput(ReleaseInput, raw);
      const s = await this.lockActive(trx, actor, suppressionId);
      const now = this.clock.now();
      const releaseId = await repo.nextId(trx, 'suppression_release', 'release_id');
      await repo.insertRelease(trx, {
        lg_code: actor.lgCode,
        release_id: releaseId,
        suppression_id: suppressionId,
        kind: 'release',
        until: null,
        reason: encryptField(
          this.settings.keyring,
          input.reason,
          this.binding(actor.lgCode, 'suppression_release', releaseId),
        ),
        released_by: actor.staffId,
        released_at: now,
      });
      if (s.process === 'certificate') await this.propagate(trx, actor, s, 'release');
      await this.log(
        trx,
        actor,
        { action: 'release', suppressionId, process: s.process, level: s.level },
        s.person_no ? [s.person_no] : [],
      );
      return { suppressionId };
    });
  }

  /**
   * 一時解除: suspends the suppression for `suppressionReleaseMinutes`, after which it applies again by
   * itself (nothing to undo). Local only: no outbox message.
   */
  async temporaryRelease(
    actor: Actor,
    suppressionId: number,
    raw: ReleaseInput,
  ): Promise<{ suppressionId: number; until: Date }> {
    return this.run(actor, 'suppressionTemporaryRelease', 'temporaryRelease', async (trx) => {
      const input = parseInput(ReleaseInput, raw);
      const s = await this.lockActive(trx, actor, suppressionId);
      const now = this.clock.now();
      const until = new Date(now.getTime() + this.settings.suppressionReleaseMinutes * MINUTE_MS);
      const releaseId = await repo.nextId(trx, 'suppression_release', 'release_id');
      await repo.insertRelease(trx, {
        lg_code: actor.lgCode,
        release_id: releaseId,
        suppression_id: suppressionId,
        kind: 'temporary',
        until,
        reason: encryptField(
          this.settings.keyring,
          input.reason,
          this.binding(actor.lgCode, 'suppression_release', releaseId),
        ),
        released_by: actor.staffId,
        released_at: now,
      });
      await this.log(
        trx,
        actor,
        { action: 'temporaryRelease', suppressionId, process: s.process, level: s.level, until },
        s.person_no ? [s.person_no] : [],
      );
      return { suppressionId, until };
    });
  }

  /** Every suppression of a person or household with its releases and reasons (a logged read). */
  async list(actor: Actor, raw: SuppressionQuery): Promise<SuppressionView[]> {
    return this.run(actor, 'suppression', 'list', async (trx) => {
      const query = parseInput(SuppressionQuery, raw);
      const rows = await repo.listSuppressions(trx, actor.lgCode, query);
      const releases = await repo.listReleases(
        trx,
        actor.lgCode,
        rows.map((r) => r.suppression_id),
      );
      const now = this.clock.now();
      const today = this.clock.today();
      const key = this.settings.keyring;
      const views = rows.map((r): SuppressionView => {
        const own = releases.filter((x) => x.suppression_id === r.suppression_id);
        const released = own.some((x) => x.kind === 'release');
        const temporary = own.filter((x) => x.kind === 'temporary' && x.until !== null && x.until > now);
        const until =
          temporary.length > 0 ? new Date(Math.max(...temporary.map((x) => x.until!.getTime()))) : null;
        return {
          ...rowToHit(r, today),
          reason: decryptField(key, r.reason, this.binding(actor.lgCode, 'suppression', r.suppression_id)),
          setBy: r.set_by,
          setAt: r.set_at,
          state: released
            ? 'released'
            : r.starts_on > today
              ? 'scheduled'
              : until !== null
                ? 'temporarilyReleased'
                : 'inForce',
          temporarilyReleasedUntil: released ? null : until,
          releases: own.map((x) => ({
            kind: x.kind,
            until: x.until,
            reason: decryptField(
              key,
              x.reason,
              this.binding(actor.lgCode, 'suppression_release', x.release_id),
            ),
            releasedBy: x.released_by,
            releasedAt: x.released_at,
          })),
        };
      });
      await this.log(
        trx,
        actor,
        {
          action: 'list',
          count: views.length,
          householdNo: 'householdNo' in query ? query.householdNo : undefined,
        },
        'personNo' in query ? [query.personNo] : [],
      );
      return views;
    });
  }

  private async lockActive(trx: Transaction<Database>, actor: Actor, suppressionId: number) {
    const s = await repo.lockSuppression(trx, actor.lgCode, suppressionId);
    if (!s) {
      throw new NotFoundError(
        'SUPPRESSION_NOT_FOUND',
        '指定された抑止が見つかりません。番号を確認してください。',
        {
          suppressionId,
        },
      );
    }
    if (s.released) {
      throw new DomainError(
        'SUPPRESSION_ALREADY_RELEASED',
        'この抑止はすでに解除されています。必要であれば新たに抑止を設定してください。',
        { suppressionId },
      );
    }
    return s;
  }

  /** Issuance suppression changes go to kiosk issuance and Juki-net: ids and dates only. */
  private async propagate(
    trx: Transaction<Database>,
    actor: Actor,
    s: Pick<
      repo.SuppressionRow,
      'suppression_id' | 'person_no' | 'household_no' | 'level' | 'starts_on' | 'ends_on'
    >,
    action: 'set' | 'release',
  ): Promise<void> {
    await repo.insertOutbox(trx, actor.lgCode, {
      topic: ISSUANCE_SUPPRESSION_TOPIC,
      key: s.person_no ?? s.household_no!,
      payload: {
        action,
        suppressionId: s.suppression_id,
        personNo: s.person_no,
        householdNo: s.household_no,
        level: s.level,
        startsOn: s.starts_on,
        endsOn: s.ends_on,
      },
    });
  }
}
