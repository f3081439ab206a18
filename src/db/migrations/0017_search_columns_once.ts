/**
 * The history's search columns hold a value once per run of equal values (issue 7, measured with
 * `npm run bench`).
 *
 * Every snapshot used to repeat the person's name, reading, other names, address, birth date and
 * 在留カード番号 in its search columns, and so added an entry to each of their indexes: a move within wrote
 * about eight random index pages per person, most of them for values that had not changed, and at
 * millions of residents those pages are rarely in memory. Search asks whether a person ever had a value,
 * so one snapshot carrying it is enough. From now on a snapshot stores such a value only where it differs
 * from the person's previous snapshot, null otherwise, and the indexes of these columns leave the nulls out
 * (search's conditions are strict, so the planner still uses them). Rows written before keep their
 * values: they are still right, only larger. The record (jsonb) of every snapshot stays complete.
 *
 * Down is refused once a snapshot holds such a null: the values are in the records, but the history is
 * insert-only, and filling them in is a rewrite of the whole history that a migration must not do silently.
 *
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

const TABLES = ['resident_history', 'resident_history_archive'] as const;

/** Each table's indexes over the columns, by name (the archive's were named by PostgreSQL, 0010). */
const INDEXES: Record<(typeof TABLES)[number], ReadonlyArray<readonly [index: string, column: string]>> = {
  resident_history: [
    ['resident_history_name', 'name_norm'],
    ['resident_history_kana', 'kana_norm'],
    ['resident_history_other_names', 'other_names_norm'],
    ['resident_history_address', 'address_norm'],
    ['resident_history_name_prefix', 'name_norm'],
    ['resident_history_kana_prefix', 'kana_norm'],
    ['resident_history_address_prefix', 'address_norm'],
    ['resident_history_birth', 'birth_sort'],
    ['resident_history_card', 'residence_card_no'],
  ],
  resident_history_archive: [
    ['resident_history_archive_name_norm_idx', 'name_norm'],
    ['resident_history_archive_kana_norm_idx', 'kana_norm'],
    ['resident_history_archive_other_names_norm_idx', 'other_names_norm'],
    ['resident_history_archive_address_norm_idx', 'address_norm'],
    ['resident_history_archive_name_prefix', 'name_norm'],
    ['resident_history_archive_kana_prefix', 'kana_norm'],
    ['resident_history_archive_address_prefix', 'address_norm'],
    ['resident_history_archive_lg_code_birth_sort_idx', 'birth_sort'],
    ['resident_history_archive_lg_code_residence_card_no_idx', 'residence_card_no'],
  ],
};

const TEXT_COLUMNS = ['name_norm', 'kana_norm', 'other_names_norm', 'address_norm'] as const;

const SAME = 'the same as in the previous snapshot of the person';
const ONCE = `null where ${SAME}`;

/** The columns' comments, before (0001) and after. */
const COMMENTS: Record<string, readonly [before: string, after: string]> = {
  name_norm: [
    'Normalised name for search (Act art. 7 item 1)',
    `Normalised name for search (Act art. 7 item 1); ${ONCE}`,
  ],
  kana_norm: [
    'Normalised reading for search (Act art. 7 item 1-2)',
    `Normalised reading for search (Act art. 7 item 1-2); ${ONCE}`,
  ],
  other_names_norm: [
    'Normalised alias and former surname for search (Act art. 7 item 1, 30-45)',
    `Normalised alias and former surname for search (Act art. 7 item 1, 30-45); ${ONCE}`,
  ],
  address_norm: [
    'Normalised address for search (Act art. 7 item 7)',
    `Normalised address for search (Act art. 7 item 7); ${ONCE}`,
  ],
  birth_sort: [
    'Date of birth (or earliest plausible day) for search (Act art. 7 item 2)',
    `Date of birth (or earliest plausible day) for search (Act art. 7 item 2); null where unknown or ${SAME}`,
  ],
  residence_card_no: [
    '在留カード番号 for search (Act art. 30-45)',
    `在留カード番号 for search (Act art. 30-45); null where none or ${SAME}`,
  ],
};

async function comment(db: Kysely<unknown>, table: string, which: 0 | 1): Promise<void> {
  for (const [column, texts] of Object.entries(COMMENTS)) {
    await sql`COMMENT ON COLUMN ${sql.raw(`${table}.${column}`)} IS ${sql.lit(texts[which])}`.execute(db);
  }
}

/** Recreates an index from its own definition, with the WHERE clause `where` (or none). */
async function redefine(db: Kysely<unknown>, index: string, where: string | undefined): Promise<void> {
  const { rows } = await sql<{ def: string }>`
    SELECT pg_get_indexdef(${index}::regclass) AS def`.execute(db);
  const def = rows[0]!.def.replace(/ WHERE .*$/, '');
  await sql`DROP INDEX ${sql.id(index)}`.execute(db);
  await sql.raw(where ? `${def} WHERE ${where}` : def).execute(db);
}

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    for (const column of TEXT_COLUMNS) {
      await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN ${sql.ref(column)} DROP NOT NULL`.execute(db);
    }
    await comment(db, table, 1);
    for (const [index, column] of INDEXES[table]) await redefine(db, index, `${column} IS NOT NULL`);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    const nulls = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.table(table)}
       WHERE name_norm IS NULL OR kana_norm IS NULL OR other_names_norm IS NULL OR address_norm IS NULL
          OR (birth_sort IS NULL AND record->'birthDate'->>'kind' <> 'unknown')`.execute(db);
    if (nulls.rows[0]!.n > 0) {
      throw new Error(
        `0017 cannot be undone: ${nulls.rows[0]!.n} snapshots of ${table} store their unchanged search values as null`,
      );
    }
  }
  for (const table of TABLES) {
    for (const [index] of INDEXES[table]) await redefine(db, index, undefined);
    for (const column of TEXT_COLUMNS) {
      await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN ${sql.ref(column)} SET NOT NULL`.execute(db);
    }
    await comment(db, table, 0);
  }
}
