/**
 * Search at scale (issue 7, measured with `npm run bench`):
 *
 * - Not added: a btree on resident (lg_code, kana_sort COLLATE "C", person_no) in page order. It turns the
 *   external sort of every record for a one- or two-character name (no trigram) into an ordered walk
 *   (1.7 s → 0.75 s at 100,000), but the planner then also walks it for common readings, whose matches
 *   cluster late in kana order ('さとう': 24 ms → 1,050 ms). Short names need another remedy.
 * - Trigram pending lists. The GIN indexes of the search columns keep new entries in a pending list
 *   (fastupdate) until VACUUM merges them, and every search reads the whole list: up to 4 MB per index
 *   by default, ~28 ms of a 35 ms search measured after a load. A 256 kB limit keeps inserts batched but
 *   bounds what a search reads; the lists are merged now.
 *
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

const TRIGRAM_INDEXES = [
  'resident_history_name',
  'resident_history_kana',
  'resident_history_other_names',
  'resident_history_address',
  'resident_history_archive_name_norm_idx',
  'resident_history_archive_kana_norm_idx',
  'resident_history_archive_other_names_norm_idx',
  'resident_history_archive_address_norm_idx',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const index of TRIGRAM_INDEXES) {
    await sql`ALTER INDEX ${sql.id(index)} SET (gin_pending_list_limit = 256)`.execute(db);
    await sql`SELECT gin_clean_pending_list(${index}::regclass)`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of TRIGRAM_INDEXES) {
    await sql`ALTER INDEX ${sql.id(index)} RESET (gin_pending_list_limit)`.execute(db);
  }
}
