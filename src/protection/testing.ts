/**
 * For tests of protection: the services on a test database with a fresh data key, staff members holding
 * chosen permissions, and residents created through the register's real change service.
 */
import { sql } from 'kysely';
import { expect } from 'vitest';
import { loadConfig } from '../config.js';
import type { Db } from '../db/index.js';
import { testKeyring } from '../keys/testing.js';
import { moveInOf, person, registryServices } from '../registry/testing.js';
import { DomainError, PERMISSIONS, type Actor, type FixedClock, type Permission } from '../shared/index.js';
import { SupportMeasureService } from './support-measure.service.js';
import { SuppressionService, type ProtectionSettings } from './suppression.service.js';

export { TEST_LG_CODE } from '../registry/testing.js';
export const RELEASE_MINUTES = 30;

export function protectionServices(db: Db, clock: FixedClock) {
  const config = loadConfig({ NODE_ENV: 'test' });
  const settings: ProtectionSettings = {
    audit: { clock, monitoring: config.monitoring },
    keyring: testKeyring(db),
    suppressionReleaseMinutes: RELEASE_MINUTES,
  };
  return {
    settings,
    suppressions: new SuppressionService(db, settings),
    measures: new SupportMeasureService(db, settings),
  };
}

let serial = 0;

/** A staff member of the test municipality holding exactly these permissions. */
export function staff(permissions: Permission[], lgCode = '999016'): Actor {
  serial += 1;
  return { lgCode, staffId: `staff-p${serial}`, terminalId: 'T-09', permissions: new Set(permissions) };
}

export const everyPermission = (lgCode = '999016'): Actor => staff([...PERMISSIONS], lgCode);

/** Moves a household in through the register; returns its members' 宛名番号 and its 世帯番号. */
export async function household(
  db: Db,
  clock: FixedClock,
  size: number,
  effectiveDate: string,
): Promise<{ personNos: string[]; householdNo: string }> {
  const { changes } = registryServices(db, clock);
  const members = Array.from({ length: size }, (_, i) =>
    person(i === 0 ? {} : { relationship: '子', name: { family: '山田', given: `花子${i}` } }),
  );
  const result = await changes.moveIn(
    { lgCode: '999016', staffId: 'staff-001', terminalId: 'T-01', permissions: new Set(PERMISSIONS) },
    moveInOf(members, { effectiveDate, notifiedOn: clock.today() }),
  );
  return { personNos: result.persons.map((p) => p.personNo), householdNo: result.householdNos[0]! };
}

/** Expects a refusal with this code; returns it. */
export async function refusal(work: Promise<unknown>, code: string): Promise<DomainError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected refusal ${code}`).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
}

export async function outboxCount(db: Db, topic: string): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM outbox WHERE topic = ${topic}`.execute(db);
  return rows[0]!.n;
}
