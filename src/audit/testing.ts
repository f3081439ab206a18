/**
 * Builders for tests of the audit module: municipalities of their own (so each test's chain starts at 1),
 * a monitoring configuration, an audit key in a temporary folder, appends in their own transaction, and
 * the superuser's way round the append-only trigger that a tampering attacker would use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/index.js';
import { FixedClock } from '../shared/index.js';
import type { AccessLogInput, AuditContext, MonitoringConfig } from './access-log.js';
import { lockChainHeads, openLanes } from './access-log.repository.js';
import { appendAccessLog } from './access-log.service.js';
import { loadOrCreateAuditKey, type AuditKey } from './audit-key.js';

export const MONITORING: MonitoringConfig = {
  officeStart: 8 * 60,
  officeEnd: 19 * 60,
  openDays: [],
  loginFailures: 3,
  loginFailureMinutes: 15,
  massSearchFactor: 3,
  massSearchMinimum: 30,
  idleSearchMinutes: 30,
};

/** Thursday 2026-11-26, 10:00 JST: office hours on a working day. */
export const WORKING_HOURS = '2026-11-26T01:00:00Z';

export function auditContext(clock = new FixedClock(WORKING_HOURS)): AuditContext & { clock: FixedClock } {
  return { clock, monitoring: MONITORING };
}

let municipalities = 0;

/** A fresh municipality (6-digit code) for one test, so its chain starts empty. */
export async function newMunicipality(db: Kysely<Database>): Promise<string> {
  municipalities += 1;
  const lgCode = String(900000 + municipalities);
  await db
    .insertInto('municipality')
    .values({ lg_code: lgCode, name: `テスト市${municipalities}` })
    .onConflict((oc) => oc.column('lg_code').doNothing())
    .execute();
  return lgCode;
}

export function testAuditKey(): AuditKey {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-audit-'));
  return loadOrCreateAuditKey(path.join(dir, 'keys', 'audit.pem'), { create: true });
}

export function entry(lgCode: string, overrides: Partial<AccessLogInput> = {}): AccessLogInput {
  return {
    lgCode,
    staffId: 'staff-001',
    terminalId: 'T-01',
    function: 'inquiry',
    purpose: '届出の受付',
    targetPersons: ['0000000018'],
    outcome: 'success',
    ...overrides,
  };
}

/** Appends in a transaction of its own. */
export async function append(
  db: Kysely<Database>,
  input: AccessLogInput,
  ctx: AuditContext,
): Promise<{ seq: number }> {
  return db.transaction().execute((trx) => appendAccessLog(trx, input, ctx));
}

/**
 * What a database superuser can do despite the append-only triggers: `session_replication_role = replica`
 * skips ordinary triggers (on PostgreSQL 15 and on PGlite alike) for the rest of the transaction.
 */
export async function asAttacker(
  db: Kysely<Database>,
  work: (trx: Transaction<Database>) => Promise<void>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`SET LOCAL session_replication_role = replica`.execute(trx);
    await work(trx);
  });
}

/**
 * Holds every lane of the municipality's access log for the rest of the transaction (opening them if it has
 * none yet). Until it ends, any append there waits.
 */
export async function holdEveryLane(trx: Transaction<Database>, lgCode: string): Promise<void> {
  await openLanes(trx, lgCode);
  await lockChainHeads(trx, lgCode);
}
