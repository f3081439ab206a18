/**
 * Versioned migrations, applied by `jumin migrate` and at start-up. The list is static (no directory
 * scanning) so the same set runs under tsx, a bundle or tests.
 */
import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import * as m0001 from './migrations/0001_register.js';

const migrations: Record<string, Migration> = {
  '0001_register': m0001,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database, whatever its tables
function migrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
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
  return check(await migrator(db).migrateToLatest());
}

/** Reverts the latest migration; returns what ran. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database, whatever its tables
export async function migrateDown(db: Kysely<any>): Promise<string[]> {
  return check(await migrator(db).migrateDown());
}
