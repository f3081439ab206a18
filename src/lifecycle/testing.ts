/**
 * For tests of backups: a source database with rows in many tables (demo residents and their history,
 * changes and access-log entries, demo staff, a signed checkpoint, an alert), temporary locations, and a
 * context on a fixed clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { raiseAlert, sealAll, type AuditKey } from '../audit/index.js';
import { MONITORING, testAuditKey } from '../audit/testing.js';
import { loadConfig } from '../config.js';
import type { Db } from '../db/index.js';
import { LocalKeyProvider, type KeyProvider } from '../keys/index.js';
import { testKeyring } from '../keys/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import { DEMO_CITY_NAME, seedDemoData } from '../registry/demo-data.js';
import { actor, registryServices } from '../registry/testing.js';
import { FixedClock } from '../shared/index.js';
import { seedDemoStaff } from '../staff/index.js';
import type { BackupContext, BackupLocations } from './backup.service.js';

export const LG_CODE = '999016';
/** 10:00 JST on Thursday 2026-11-26. */
export const NOW = '2026-11-26T01:00:00Z';

/** Fills a migrated database; returns the audit key that sealed its checkpoint. */
export async function seedSource(db: Db, clock = new FixedClock(NOW)): Promise<AuditKey> {
  await ensureMunicipality(db, LG_CODE, DEMO_CITY_NAME);
  const config = loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: LG_CODE });
  await seedDemoStaff(db, LG_CODE, clock, config, testKeyring(db));
  const { changes } = registryServices(db, clock);
  await seedDemoData(changes, actor, { today: clock.today(), households: 12 });
  const auditKey = testAuditKey();
  await sealAll(db, auditKey, clock);
  await raiseAlert(db, {
    lgCode: LG_CODE,
    rule: 'massSearch',
    subject: 'staff-001',
    dedupeKey: 'test',
    raisedAt: clock.now(),
    details: { searchesLastHour: 99 },
  });
  return auditKey;
}

export function backupContext(
  keys: KeyProvider = LocalKeyProvider.ephemeral(),
  clock = new FixedClock(NOW),
): BackupContext & { clock: FixedClock } {
  return { keys, clock, monitoring: MONITORING, terminalId: 'test' };
}

export function tempLocations(retentionDays = 31): BackupLocations & { root: string } {
  // As in development: the second location is created when missing.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-backup-'));
  return {
    root,
    dir: path.join(root, 'primary'),
    offsiteDir: path.join(root, 'offsite'),
    retentionDays,
    createOffsiteDir: true,
  };
}
