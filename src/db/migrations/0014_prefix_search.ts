/**
 * Prefix search (前方一致) of names, readings and addresses (issue 7, measured with `npm run bench`).
 *
 * A clerk types the start of a reading (サトウ タ), a name or an address. The trigram indexes of 0001 find
 * text anywhere, but at millions of residents a common reading's trigrams each list a hundred thousand
 * snapshots, and every match must be fetched from the heap to be rechecked (trigrams are lossy): 30–200 ms
 * whatever the hits. A btree over the text in pattern order answers a prefix as one range, in order, and
 * stops at the search's limit; with the person number included the range is read from the index alone
 * (the history is insert-only, so VACUUM keeps its pages all-visible).
 *
 * name_norm holds the name first and a foreign resident's Latin name after '|'; the Latin name and the
 * other names (alias, former surname) keep the trigram indexes, whose lists hold only the few persons
 * that have such names. The trigram indexes stay for 部分一致 (text anywhere) as well.
 *
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

const COLUMNS = [
  ['kana', 'kana_norm'],
  ['name', 'name_norm'],
  ['address', 'address_norm'],
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['resident_history', 'resident_history_archive']) {
    for (const [short, column] of COLUMNS) {
      await sql`
        CREATE INDEX ${sql.id(`${table}_${short}_prefix`)} ON ${sql.table(table)}
          (lg_code, ${sql.ref(column)} text_pattern_ops) INCLUDE (person_no)
      `.execute(db);
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['resident_history', 'resident_history_archive']) {
    for (const [short] of COLUMNS) {
      await sql`DROP INDEX ${sql.id(`${table}_${short}_prefix`)}`.execute(db);
    }
  }
}
