/**
 * Versioned migrations, applied by `jumin migrate` and at start-up. The list is static (no directory
 * scanning) so the same set runs under tsx, a bundle or tests.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import * as m0001 from './migrations/0001_register.js';
import * as m0002 from './migrations/0002_staff.js';
import * as m0003 from './migrations/0003_audit.js';
import * as m0004 from './migrations/0004_edit_lock.js';
import * as m0005 from './migrations/0005_support_measure.js';
import * as m0006 from './migrations/0006_protection.js';
import * as m0007 from './migrations/0007_certificates.js';
import * as m0008 from './migrations/0008_keys.js';
import * as m0009 from './migrations/0009_transient.js';
import * as m0010 from './migrations/0010_archive.js';
import * as m0011 from './migrations/0011_terminal.js';
import * as m0012 from './migrations/0012_search_indexes.js';
import * as m0013 from './migrations/0013_statistics.js';
import * as m0014 from './migrations/0014_prefix_search.js';
import * as m0015 from './migrations/0015_monitoring_index.js';
import * as m0016 from './migrations/0016_audit_lanes.js';
import * as m0017 from './migrations/0017_search_columns_once.js';
import * as m0018 from './migrations/0018_numbers_once.js';
import * as m0019 from './migrations/0019_flow_counts.js';
import * as m0020 from './migrations/0020_change_index_covering.js';
import * as m0021 from './migrations/0021_resident_key_covering.js';
import * as m0022 from './migrations/0022_resident_reading.js';

const migrations: Record<string, Migration> = {
  '0001_register': m0001,
  '0002_staff': m0002,
  '0003_audit': m0003,
  '0004_edit_lock': m0004,
  '0005_support_measure': m0005,
  '0006_protection': m0006,
  '0007_certificates': m0007,
  '0008_keys': m0008,
  '0009_transient': m0009,
  '0010_archive': m0010,
  '0011_terminal': m0011,
  '0012_search_indexes': m0012,
  '0013_statistics': m0013,
  '0014_prefix_search': m0014,
  '0015_monitoring_index': m0015,
  '0016_audit_lanes': m0016,
  '0017_search_columns_once': m0017,
  '0018_numbers_once': m0018,
  '0019_flow_counts': m0019,
  '0020_change_index_covering': m0020,
  '0021_resident_key_covering': m0021,
  '0022_resident_reading': m0022,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database, whatever its tables
async function migrator(db: Kysely<any>): Promise<Migrator> {
  // Kysely looks for its own tables in any schema unless told which: name the session's schema, so that
  // deployments (and test schemas) sharing one server each keep their own migration state.
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableSchema: rows[0]?.schema ?? 'public',
  });
}

function check(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed`, { cause: result.error });
  }
  return (result.results ?? []).map((r) => `${r.direction} ${r.migrationName}`);
}

/** Applies every pending migration; returns what ran. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database, whatever its tables
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  return check(await (await migrator(db)).migrateToLatest());
}

/** The names of this build's migrations, in order (what a backup must match to be restored). */
export function migrationNames(): string[] {
  return Object.keys(migrations).sort();
}

/** Reverts the latest migration; returns what ran. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database, whatever its tables
export async function migrateDown(db: Kysely<any>): Promise<string[]> {
  return check(await (await migrator(db)).migrateDown());
}
