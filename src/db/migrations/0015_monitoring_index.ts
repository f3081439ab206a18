/**
 * The mass-search rule (audit/monitoring.ts) counts a staff member's searches of the last hour at every
 * search, and past the minimum (30 by default) those of the 28 days before, while the municipality's chain
 * head is locked: every other access-log entry and change of the municipality waits for it. Through
 * access_log_staff those counts read every entry of the staff member in the window from the heap, to keep
 * the searches: a busy clerk's 28 days are thousands of rows. A partial index of the searches alone makes
 * both counts index-only scans of just the searches (the log is insert-only, so its pages become
 * all-visible), and other entries, changes among them, do not maintain it.
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX access_log_staff_search ON access_log (lg_code, staff_id, occurred_at)
      WHERE function = 'search'
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX access_log_staff_search`.execute(db);
}
