/**
 * The aggregates behind the annual statistics: three set-based statements (persons, households, flows),
 * each returning a few thousand grouped rows at most, never a person. Nothing here decrypts or reads the
 * 個人番号 columns.
 *
 * Stock as of a day D (the register as it stood at the end of D):
 * - "later": the persons with a valid change (neither cancelled nor a cancellation) whose effective date
 *   is after D — found through the change (lg_code, effective_date) index and the snapshots of those
 *   changes. Usually a small share of the register (1.4 % of the synthetic 4M for January 1).
 * - Everyone is first counted from the current-record index of the live table, whose content for a
 *   person not in "later" equals their latest valid snapshot (a cancellation restores the snapshot before
 *   the change it cancels), which was in force on D — an index-only scan of the covering index of
 *   migration 0013, aggregated as it streams (households in household order).
 * - The persons in "later" are then taken back out as the index has them and put in again as they stood
 *   on D. The cells are counts, so this adds up; a household is one count in one cell, so every household
 *   with such a person (now or on D) is swapped whole. Current persons are never archived (the archive
 *   takes removed records only), but should the archive hold one, its cells are added and its household
 *   swapped whole the same way.
 * - As they stood on D: the snapshot in force on D is the highest 履歴番号 whose change is valid and whose
 *   effective date — and that of every valid change before it — is on or before D (a snapshot cannot take
 *   effect before the ones it builds on). That is the last valid snapshot before the person's first valid
 *   snapshot dated after D (every valid one before that is dated on or before D, and none after it can be
 *   in force), so "later" keeps that first 履歴番号 and the reconstruction steps back from it on the
 *   primary key: usually one snapshot read.
 * - A person counts when that snapshot is current and any planned move-out (転出予定) is after D.
 * The cost of the reconstruction grows with the number of persons changed after D: cheap for January 1
 * run early in the year, close to a walk of the whole history for a day decades back.
 *
 * Flows over [from, to]: persons touched by valid changes with an effective date in the period, by reason:
 * an entry counts the person it entered (履歴番号 1), a removal the persons it removed, a 転居 the persons
 * whose address it set; relationship re-sets of other members written by the same change do not count.
 * Each change row holds its count, by kind, from when it was written (statistics.ts flowCountsOf); a purge
 * that keeps a change row for the persons it does not purge leaves the count as written (a period 150
 * years back).
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/index.js';
import type { Trx } from './resident.repository.js';
import type { FlowCell, HouseholdCell, PopulationCell } from './statistics.js';

type Executor = Db | Trx;

/** The address up to the lot number: everything before its first digit (架空市中央区本町一丁目). */
const AREA_PATTERN = '^[^0-9０-９]*';

/** yyyymmdd as an integer, for the age rule (statistics.ts ageOnDay). */
function dayNumber(d: string): number {
  return Number(d.replaceAll('-', ''));
}

interface StockRow {
  t: 'p' | 'h';
  kind: string | null;
  sex: string | null;
  age: number | null;
  area: string | null;
  has_japanese: boolean | null;
  has_foreign: boolean | null;
  n: string | number;
}

/**
 * Session settings for this transaction only: no JIT (compiling the plan costs seconds and saves
 * little on these scans), enough memory for the aggregates to stay in memory, and no parallel workers:
 * the three aggregates already run side by side, and a worker's partial household groups would have to
 * be hashed again (a streaming aggregate over the index in household order needs one process).
 */
export const AGGREGATE_SETTINGS: Readonly<Record<string, string>> = {
  jit: 'off',
  work_mem: '256MB',
  max_parallel_workers_per_gather: '0',
};

export async function tuneForAggregates(trx: Trx): Promise<void> {
  const settings = Object.entries(AGGREGATE_SETTINGS).map(
    ([name, value]) => sql`set_config(${name}, ${value}, true)`,
  );
  await sql`SELECT ${sql.join(settings)}`.execute(trx);
}

/** The stock statement (exported so the benchmark can EXPLAIN it). */
export function stockQuery(
  lgCode: string,
  asOf: string,
  part: 'persons' | 'households',
): RawBuilder<StockRow> {
  const day = dayNumber(asOf);
  const age = (birth: string) => sql.raw(`(${day}::int - replace(${birth}, '-', '')::int) / 10000`);
  const counted = sql`r.lg_code = ${lgCode} AND r.status = 'current'
        AND (r.planned_move_out IS NULL OR r.planned_move_out > ${asOf}::date)`;
  // A household's cell from its members' rows: the area of its address, and which kinds it holds.
  const householdCell = (kind: string, area: string) =>
    sql.raw(`min(${area}) AS area, bool_or(${kind} = 'japanese') AS has_japanese,
             bool_or(${kind} = 'foreign') AS has_foreign`);
  // The persons cells of one table of current records, as its index has them.
  const personCells = (table: 'resident' | 'resident_archive') => sql`
      SELECT r.kind, r.stat_sex AS sex, ${age('r.stat_birth')} AS age, r.stat_area AS area, count(*) AS n
      FROM ${sql.table(table)} r
      WHERE ${counted}
      GROUP BY 1, 2, 3, 4`;
  // Counted as the index has them, less "later" as the index has them, plus "later" as they stood (see
  // the header): the big scan is a plain aggregate over the index, with nothing looked up per row. Two
  // statements rather than one with GROUPING SETS: each streams over the index on its own.
  const persons = sql`
    SELECT 'p' AS t, kind, sex, age, area, NULL::boolean AS has_japanese, NULL::boolean AS has_foreign,
           sum(n) AS n
    FROM (
      ${personCells('resident')}
      UNION ALL
      ${personCells('resident_archive')}
      UNION ALL
      SELECT kind, sex, ${age('birth')}, area, -count(*) FROM later_now GROUP BY 1, 2, 3, 4
      UNION ALL
      SELECT kind, sex, ${age('birth')}, area, count(*) FROM past_stock GROUP BY 1, 2, 3, 4
    ) cells
    GROUP BY kind, sex, age, area
    HAVING sum(n) <> 0`;
  const households = sql`,
    -- The households with a person changed after the day, now or as they stood, and those with a
    -- current person in the archive (never, in practice: the scan of all households below reads the live
    -- table alone, so that it is planned on that table's statistics).
    touched AS (
      SELECT household_no FROM later_now
      UNION SELECT household_no FROM past_stock
      UNION SELECT r.household_no FROM resident_archive r WHERE ${counted}
    ),
    -- Their members are read per household on the index (the estimates through these CTEs are far off,
    -- and a join would otherwise hash the whole register).
    touched_now AS (
      SELECT t.household_no, m.area, m.has_japanese, m.has_foreign
      FROM touched t
      CROSS JOIN LATERAL (
        SELECT ${householdCell('r.kind', 'r.stat_area')}, count(*) AS members
        FROM resident r
        WHERE r.household_no = t.household_no AND ${counted}
      ) m
      WHERE m.members > 0
    ),
    touched_then AS (
      SELECT household_no, ${householdCell('kind', 'area')}
      FROM (
        SELECT t.household_no, m.kind, m.area
        FROM touched t
        CROSS JOIN LATERAL (
          SELECT r.person_no, r.kind, r.stat_area AS area
          FROM resident_all r
          WHERE r.household_no = t.household_no AND ${counted}
          OFFSET 0
        ) m
        WHERE NOT EXISTS (SELECT 1 FROM later l WHERE l.person_no = m.person_no)
        UNION ALL
        SELECT household_no, kind, area FROM past_stock
      ) m
      GROUP BY household_no
    )
    SELECT 'h' AS t, NULL AS kind, NULL AS sex, NULL::int AS age, area, has_japanese, has_foreign,
           sum(n) AS n
    FROM (
      SELECT area, has_japanese, has_foreign, count(*) AS n
      FROM (
        SELECT ${householdCell('r.kind', 'r.stat_area')}
        FROM resident r
        WHERE ${counted}
        GROUP BY r.household_no
      ) hh
      GROUP BY 1, 2, 3
      UNION ALL
      SELECT area, has_japanese, has_foreign, -count(*) FROM touched_now GROUP BY 1, 2, 3
      UNION ALL
      SELECT area, has_japanese, has_foreign, count(*) FROM touched_then GROUP BY 1, 2, 3
    ) cells
    GROUP BY area, has_japanese, has_foreign
    HAVING sum(n) <> 0`;
  return sql<StockRow>`
    WITH later AS (
      SELECT h.person_no, min(h.history_seq) AS first_later
      FROM change c
      -- Per change, its snapshots by the change_id index (OFFSET 0: see flowQuery).
      CROSS JOIN LATERAL (
        SELECT h.person_no, h.history_seq FROM resident_history_all h WHERE h.change_id = c.change_id OFFSET 0
      ) h
      WHERE c.lg_code = ${lgCode}
        AND c.effective_date > ${asOf}::date
        AND c.cancels_change_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM change x WHERE x.cancels_change_id = c.change_id)
      GROUP BY h.person_no
    ),
    -- They as the index has them (when counted there).
    later_now AS (
      SELECT r.household_no, r.kind, r.stat_sex AS sex, r.stat_birth AS birth, r.stat_area AS area
      FROM later l
      JOIN resident_all r ON r.lg_code = ${lgCode} AND r.person_no = l.person_no
      WHERE ${counted}
    ),
    -- They as they stood (when counted then). Per person, a backward step on the history's primary key
    -- from the first later snapshot, never a scan of the whole history: the last valid snapshot before it,
    -- which is the one in force on the day.
    past_stock AS (
      SELECT s.household_no, s.record->>'kind' AS kind, s.sex,
             -- As resident.stat_birth (migration 0013): birth_sort is null where unchanged (0017).
             coalesce(s.record->'birthDate'->>'date', s.record->'birthDate'->>'sortKey') AS birth,
             substring(s.record->'address'->>'text' FROM ${AREA_PATTERN}) AS area
      FROM later l
      CROSS JOIN LATERAL (
        SELECT h.status, h.household_no, h.sex, h.record
        FROM resident_history_all h
        JOIN change c ON c.change_id = h.change_id
        WHERE h.lg_code = ${lgCode}
          AND h.person_no = l.person_no
          AND h.history_seq < l.first_later
          AND c.cancels_change_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM change x WHERE x.cancels_change_id = c.change_id)
        ORDER BY h.history_seq DESC
        LIMIT 1
      ) s
      WHERE s.status = 'current'
        AND coalesce(s.record->'plannedMoveOut'->>'plannedDate' > ${asOf}, true)
    )
    ${part === 'persons' ? persons : households}
  `;
}

/** Population cells as of the end of `asOf`. */
export async function populationAsOf(db: Executor, lgCode: string, asOf: string): Promise<PopulationCell[]> {
  const { rows } = await stockQuery(lgCode, asOf, 'persons').execute(db);
  return rows.map((r) => ({
    kind: r.kind === 'foreign' ? 'foreign' : 'japanese',
    sex: r.sex === 'female' ? 'female' : 'male',
    age: r.age === null ? null : Number(r.age),
    area: r.area ?? '',
    persons: Number(r.n),
  }));
}

/** Household cells as of the end of `asOf`. */
export async function householdsAsOf(db: Executor, lgCode: string, asOf: string): Promise<HouseholdCell[]> {
  const { rows } = await stockQuery(lgCode, asOf, 'households').execute(db);
  return rows.map((r) => ({
    area: r.area ?? '',
    hasJapanese: r.has_japanese === true,
    hasForeign: r.has_foreign === true,
    households: Number(r.n),
  }));
}

/**
 * PostgreSQL: exports the transaction's snapshot, so that other connections may read the very same
 * register (the aggregates then run side by side, one core each).
 */
export async function exportSnapshot(trx: Trx): Promise<string> {
  const { rows } = await sql<{ id: string }>`SELECT pg_export_snapshot() AS id`.execute(trx);
  return rows[0]!.id;
}

/** Reads from a snapshot another transaction exported: first thing in a repeatable-read transaction. */
export async function importSnapshot(trx: Trx, id: string): Promise<void> {
  // SET takes no parameters; the id is the server's own, checked to be one.
  if (!/^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/i.test(id)) throw new Error(`unexpected snapshot id ${id}`);
  await sql`SET TRANSACTION SNAPSHOT ${sql.lit(id)}`.execute(trx);
}

interface FlowRow {
  reason: string;
  japanese: string | number;
  foreign: string | number;
}

/** The flow statement (exported so the benchmark can EXPLAIN it). */
export function flowQuery(
  lgCode: string,
  from: string,
  to: string,
  reasons: readonly string[],
): RawBuilder<FlowRow> {
  // The persons each change counts are on its row (migration 0019): no snapshot is read.
  return sql<FlowRow>`
    SELECT c.reason, sum(c.flow_japanese) AS japanese, sum(c.flow_foreign) AS foreign
    FROM change c
    WHERE c.lg_code = ${lgCode}
      AND c.effective_date BETWEEN ${from}::date AND ${to}::date
      AND c.cancels_change_id IS NULL
      AND c.reason IN (${sql.join([...reasons])})
      AND NOT EXISTS (SELECT 1 FROM change x WHERE x.cancels_change_id = c.change_id)
    GROUP BY 1
  `;
}

/** Persons by reason and kind for the valid changes effective in [from, to]. */
export async function flowsBetween(
  db: Executor,
  lgCode: string,
  from: string,
  to: string,
  reasons: readonly string[],
): Promise<FlowCell[]> {
  const { rows } = await flowQuery(lgCode, from, to, reasons).execute(db);
  return rows.flatMap((r) => [
    { reason: r.reason, kind: 'japanese' as const, persons: Number(r.japanese) },
    { reason: r.reason, kind: 'foreign' as const, persons: Number(r.foreign) },
  ]);
}
