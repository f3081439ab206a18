/**
 * Bulk loader of the synthetic population (population.ts): writes households, changes, snapshots
 * (resident_history with its search columns, encrypted 個人番号 and blind index) and the current-record
 * index (resident) exactly as the ChangeService would — by COPY on PostgreSQL (population.copy.ts; a large
 * load's rows built by one worker thread per core, population.parallel.ts), by batches of multi-row INSERTs
 * on the embedded database — without an access-log entry per person: one 'batch' entry records the load.
 *
 * Numbers: the 宛名番号 and 世帯番号 counters and the change-id sequence are advanced first, under an advisory
 * lock, by as many values as the load can use; generated numbers lie in those reserved ranges, so the normal
 * services go on numbering after them (a move-in afterwards gets a fresh 宛名番号).
 */
import { availableParallelism } from 'node:os';
import { sql } from 'kysely';
import type pg from 'pg';
import type { Db, PgConnection } from '../db/index.js';
import type { Keyring, MunicipalityKeys } from '../keys/index.js';
import { normalizeForSearch, type Actor } from '../shared/index.js';
import { logAccess, type AuditSettings } from './access.js';
import { REASONS, type Reason } from './change.js';
import {
  numbersChanged,
  searchColumnsOf,
  storedSearchColumns,
  type SearchColumns,
} from './change.service.js';
import { snapshotMyNumberBinding, storedRecord } from './my-number.js';
import {
  batchedCopySink,
  beginBulkLoad,
  bulkCopySink,
  copyTexts,
  registerIsEmpty,
  type CopyTexts,
} from './population.copy.js';
import { parallelBulkLoad } from './population.parallel.js';
import { generatePopulation, type GeneratedHousehold, type PopulationOptions } from './population.js';
import { flowCountsOf } from './statistics.js';
import { ensureMunicipality, type ChangeRow } from './resident.repository.js';
import type { ResidentRecord } from './resident.js';

const CHANGE_TYPE: Partial<Record<Reason, string>> = {
  domesticMoveIn: 'moveIn',
  moveInFromAbroad: 'moveIn',
  birth: 'birth',
  moveWithin: 'moveWithin',
  exOfficioCorrection: 'correct',
  domesticMoveOut: 'moveOut',
  moveOutAbroad: 'moveOut',
  death: 'death',
};

/** At most this many changes per person (entry or birth, move, correction, removal) plus one per household. */
const CHANGES_PER_PERSON = 5;
const ROWS_PER_INSERT = 1000;
/** Below this many residents a load builds its rows on one thread (each worker compiles the sources first). */
const PARALLEL_FROM = 50_000;

export interface LoadPopulationOptions {
  db: Db;
  /**
   * PostgreSQL: new dedicated connections (`DatabaseHandle.connect`). Given, rows go in by COPY — in bulk
   * mode (indexes and keys dropped and rebuilt) when the register is empty. Absent (the embedded database),
   * by multi-row INSERTs.
   */
  connect?: (() => Promise<pg.Client>) | undefined;
  /** PostgreSQL: `connect`'s settings, for the worker threads of a bulk load (DatabaseHandle.connection). */
  connection?: PgConnection | undefined;
  keyring: Keyring;
  audit: AuditSettings;
  actor: Actor;
  seed: number;
  residents: number;
  municipalityName?: string;
  /** Households per batch (per transaction on the INSERT and batched COPY paths). */
  batchHouseholds?: number;
  /**
   * Bulk mode with `connection`: threads building and writing the rows (population.parallel.ts); 1 builds
   * them on this thread, as every other path does. Default: one per core from PARALLEL_FROM residents up.
   */
  workers?: number;
  asOf?: string;
  onProgress?: (done: { residents: number; households: number; phase: LoadPhase }) => void;
}

/** `rows`: generating and writing; `indexes`: rebuilding dropped indexes and keys (bulk COPY); `analyze`. */
export type LoadPhase = 'rows' | 'indexes' | 'analyze';

export interface LoadSummary {
  residents: number;
  households: number;
  snapshots: number;
  changes: number;
  firstPersonSerial: number;
  firstHouseholdSerial: number;
  /** How the rows went in. */
  method: 'insert' | 'copy' | 'bulkCopy';
  /** Threads that built the rows. */
  workers: number;
}

/** Loads `residents` generated persons into the actor's municipality. */
export async function loadPopulation(o: LoadPopulationOptions): Promise<LoadSummary> {
  const lg = o.actor.lgCode;
  // On the embedded database the keys are loaded before any transaction is open (keyring.ts).
  const keys = await o.keyring.forMunicipality(lg);
  if (o.municipalityName) await ensureMunicipality(o.db, lg, o.municipalityName);

  let method: LoadSummary['method'] = 'insert';
  if (o.connect) {
    const probe = await o.connect();
    const empty = await registerIsEmpty(probe).finally(() => probe.end());
    method = empty ? 'bulkCopy' : 'copy';
  }

  const reserved = await o.db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext('jumin.populate'))`.execute(trx);
    const bump = async (kind: 'person' | 'household') => {
      const row = await trx
        .insertInto('number_counter')
        .values({ lg_code: lg, kind, last_value: o.residents })
        .onConflict((oc) =>
          oc
            .columns(['lg_code', 'kind'])
            .doUpdateSet({ last_value: sql<number>`number_counter.last_value + ${o.residents}` }),
        )
        .returning('last_value')
        .executeTakeFirstOrThrow();
      return row.last_value - o.residents;
    };
    const person = await bump('person');
    const household = await bump('household');
    const span = o.residents * CHANGES_PER_PERSON;
    const seq = await sql<{ first: number }>`
      SELECT setval(pg_get_serial_sequence('change', 'change_id'),
                    nextval(pg_get_serial_sequence('change', 'change_id')) + ${span} - 1) - ${span} + 1 AS first`.execute(
      trx,
    );
    return { person, household, firstChange: Number(seq.rows[0]?.first) };
  });

  const options: PopulationOptions = {
    seed: o.seed,
    residents: o.residents,
    lgCode: lg,
    personSerialAfter: reserved.person,
    householdSerialAfter: reserved.household,
    ...(o.asOf ? { asOf: o.asOf } : {}),
  };
  const batchHouseholds = o.batchHouseholds ?? (method === 'insert' ? 500 : 2000);
  const summary: LoadSummary = {
    residents: 0,
    households: 0,
    snapshots: 0,
    changes: 0,
    firstPersonSerial: reserved.person + 1,
    firstHouseholdSerial: reserved.household + 1,
    method,
    workers: 1,
  };
  const progress = (phase: LoadPhase) =>
    o.onProgress?.({ residents: summary.residents, households: summary.households, phase });
  const counted = (b: BatchCounts) => {
    summary.households += b.households;
    summary.residents += b.residents;
    summary.snapshots += b.snapshots;
    summary.changes += b.changes;
    progress('rows');
  };

  const build: CopyBatchOptions = {
    population: options,
    keys,
    actor: o.actor,
    firstChangeId: reserved.firstChange,
    batchHouseholds,
  };
  if (!o.connect) {
    // The embedded database: multi-row INSERTs, one transaction per batch, on this thread.
    for (const { rows } of ownRowBatches(build, 0, 1)) {
      await insertRows(o.db, rows);
      counted(countsOf(rows));
    }
  } else {
    const workers =
      method === 'bulkCopy' && o.connection
        ? (o.workers ?? (o.residents >= PARALLEL_FROM ? availableParallelism() : 1))
        : 1;
    summary.workers = workers;
    // The numbers are reserved (above) before bulk mode drops the indexes of the tables the rows go to.
    if (workers > 1) {
      const bulk = await beginBulkLoad(o.connect);
      try {
        for await (const counts of parallelBulkLoad({ ...build, workers, connection: o.connection! })) {
          counted(counts);
        }
      } catch (error) {
        await bulk.abort();
        throw error;
      }
      await bulk.finish((phase) => progress(phase as LoadPhase));
    } else {
      const sink = method === 'bulkCopy' ? await bulkCopySink(o.connect) : await batchedCopySink(o.connect);
      try {
        for (const batch of copyBatches(build)) {
          await sink.write(batch.copy);
          counted(batch);
        }
      } catch (error) {
        await sink.abort();
        throw error;
      }
      await sink.finish((phase) => progress(phase as LoadPhase));
    }
  }

  await o.db.transaction().execute(async (trx) => {
    await logAccess(trx, o.audit, o.actor, {
      function: 'batch',
      outcome: 'success',
      details: {
        job: 'populate',
        method,
        seed: o.seed,
        residents: summary.residents,
        households: summary.households,
        snapshots: summary.snapshots,
        changes: summary.changes,
      },
    });
  });
  return summary;
}

/** One batch in multi-row INSERTs, in one transaction (the embedded database). */
async function insertRows(db: Db, rows: PopulationRows): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await insertChunks(rows.households, (chunk) => trx.insertInto('household').values(chunk).execute());
    await insertChunks(rows.changes, (chunk) =>
      sql`INSERT INTO change (change_id, lg_code, change_type, change_kind, reason, effective_date,
            processed_on, notified_on, staff_id, terminal_id, notes, payload, flow_japanese, flow_foreign)
          OVERRIDING SYSTEM VALUE VALUES ${sql.join(
            chunk.map(
              (c) =>
                sql`(${c.change_id}, ${c.lg_code}, ${c.change_type}, ${c.change_kind}, ${c.reason},
                  ${c.effective_date}, ${c.processed_on}, ${c.notified_on}, ${c.staff_id}, ${c.terminal_id},
                  ${c.notes}, ${c.payload}::jsonb, ${c.flow_japanese}, ${c.flow_foreign})`,
            ),
          )}`.execute(trx),
    );
    await insertChunks(rows.history, (chunk) => trx.insertInto('resident_history').values(chunk).execute());
    await insertChunks(rows.residents, (chunk) => trx.insertInto('resident').values(chunk).execute());
  });
}

async function insertChunks<T>(rows: readonly T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await insert(rows.slice(i, i + ROWS_PER_INSERT));
}

/**
 * A memo of a pure string function, for the normalised names and addresses a population repeats (a few
 * thousand surnames and given names); forgets everything past `limit` entries to bound memory.
 */
function memoized(f: (s: string) => string, limit = 200_000): (s: string) => string {
  const memo = new Map<string, string>();
  return (s) => {
    let v = memo.get(s);
    if (v === undefined) {
      v = f(s);
      if (memo.size >= limit) memo.clear();
      memo.set(s, v);
    }
    return v;
  };
}

export type PopulationRows = ReturnType<typeof rowsOf>;

/** What a batch holds. */
export interface BatchCounts {
  households: number;
  residents: number;
  snapshots: number;
  changes: number;
}

/** A batch as COPY text, built on this thread or by a worker. */
export interface CopyBatch extends BatchCounts {
  copy: CopyTexts;
}

export interface CopyBatchOptions {
  population: PopulationOptions;
  keys: MunicipalityKeys;
  actor: Actor;
  /** The change id of the first batch's first change; each batch's follow on. */
  firstChangeId: number;
  batchHouseholds: number;
}

function countsOf(rows: PopulationRows): BatchCounts {
  return {
    households: rows.households.length,
    residents: rows.residents.length,
    snapshots: rows.history.length,
    changes: rows.changes.length,
  };
}

/** The generated households in batches of `size` (the last may be smaller). */
function* householdBatches(options: PopulationOptions, size: number): Generator<GeneratedHousehold[]> {
  let batch: GeneratedHousehold[] = [];
  for (const household of generatePopulation(options)) {
    batch.push(household);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The change rows a batch of households gets (rowsOf: one per generated change). */
function changesIn(batch: readonly GeneratedHousehold[]): number {
  return batch.reduce((n, h) => n + h.changes.length, 0);
}

/**
 * The rows of the batches one worker of `workers` builds, each with its index, as one thread would build
 * them: a batch's first change id follows from the changes of every batch before it.
 */
function* ownRowBatches(
  o: CopyBatchOptions,
  worker: number,
  workers: number,
): Generator<{ index: number; rows: PopulationRows }> {
  const normalize = memoized(normalizeForSearch);
  let index = 0;
  let firstChangeId = o.firstChangeId;
  for (const batch of householdBatches(o.population, o.batchHouseholds)) {
    if (index % workers === worker) {
      yield { index, rows: rowsOf(batch, o.keys, o.actor, firstChangeId, normalize) };
    }
    firstChangeId += changesIn(batch);
    index += 1;
  }
}

/** The batches one worker of `workers` builds, each with its index, as COPY text. */
export function* ownBatches(
  o: CopyBatchOptions,
  worker: number,
  workers: number,
): Generator<{ index: number; batch: CopyBatch }> {
  for (const { index, rows } of ownRowBatches(o, worker, workers)) {
    yield { index, batch: { ...countsOf(rows), copy: copyTexts(rows) } };
  }
}

/** Every batch as COPY text, in order, built on this thread. */
export function* copyBatches(o: CopyBatchOptions): Generator<CopyBatch> {
  for (const { batch } of ownBatches(o, 0, 1)) yield batch;
}

/** The rows of a batch of households, as the repository writes them (resident.repository.ts writeSnapshot). */
export function rowsOf(
  households: readonly GeneratedHousehold[],
  keys: MunicipalityKeys,
  actor: Actor,
  firstChangeId: number,
  normalize: (s: string) => string = normalizeForSearch,
) {
  const lg = actor.lgCode;
  const householdRows: Array<{ lg_code: string; household_no: string }> = [];
  // A change row as the repository reads it, with its municipality and the payload as JSON text to insert.
  const changes: Array<
    Omit<ChangeRow, 'cancels_change_id' | 'payload' | 'created_at'> & {
      lg_code: string;
      payload: string;
      flow_japanese: number;
      flow_foreign: number;
    }
  > = [];
  const history = [];
  const residents = [];
  let changeId = firstChangeId;
  for (const h of households) {
    householdRows.push({ lg_code: lg, household_no: h.householdNo });
    const ids = h.changes.map(() => changeId++);
    const snapshotsOf = h.changes.map((): Array<(typeof h.snapshots)[number]> => []);
    for (const s of h.snapshots) snapshotsOf[s.change]?.push(s);
    h.changes.forEach((c, i) => {
      const written = snapshotsOf[i]!;
      const persons = written.map((s) => s.record.personNo);
      const flows = flowCountsOf(
        { kind: REASONS[c.reason].kind, effectiveDate: c.effectiveDate },
        written.map((s) => ({
          historySeq: s.historySeq,
          status: s.record.status,
          kind: s.record.kind,
          addressSetOn: s.record.addressSetOn,
        })),
      );
      changes.push({
        change_id: ids[i] as number,
        lg_code: lg,
        change_type: CHANGE_TYPE[c.reason] ?? c.reason,
        change_kind: REASONS[c.reason].kind,
        reason: c.reason,
        effective_date: c.effectiveDate,
        processed_on: c.notifiedOn && c.notifiedOn > c.effectiveDate ? c.notifiedOn : c.effectiveDate,
        notified_on: c.notifiedOn ?? null,
        staff_id: actor.staffId,
        terminal_id: actor.terminalId,
        notes: c.notes ?? null,
        // No 個人番号 in a change payload: the snapshots keep it, encrypted.
        payload: JSON.stringify({ generatedBy: 'populate', householdNo: h.householdNo, personNos: persons }),
        flow_japanese: flows.japanese,
        flow_foreign: flows.foreign,
      });
    });
    const last = new Map<
      string,
      { seq: number; kana: string; record: ResidentRecord; json: string; search: SearchColumns }
    >();
    // A person's 個人番号 is the same in each snapshot: one blind index per person (the ciphertext differs,
    // bound to the snapshot's row).
    const indexOf = new Map<string, Buffer>();
    for (const s of h.snapshots) {
      const r = s.record;
      const { kanaSort, ...columns } = searchColumnsOf(r, normalize);
      const previous = last.get(r.personNo);
      const search = storedSearchColumns(columns, previous?.search);
      const myNumberIndex =
        r.myNumber === undefined ? null : (indexOf.get(r.myNumber) ?? keys.blindIndex(r.myNumber));
      if (r.myNumber !== undefined && myNumberIndex) indexOf.set(r.myNumber, myNumberIndex);
      const myNumberEnc =
        r.myNumber === undefined
          ? null
          : keys.encrypt(snapshotMyNumberBinding(r.personNo, s.historySeq), r.myNumber);
      const json = JSON.stringify(storedRecord(r));
      history.push({
        lg_code: lg,
        person_no: r.personNo,
        history_seq: s.historySeq,
        change_id: ids[s.change] as number,
        status: r.status,
        household_no: r.householdNo,
        name_norm: search.nameNorm,
        kana_norm: search.kanaNorm,
        other_names_norm: search.otherNamesNorm,
        address_norm: search.addressNorm,
        birth_sort: search.birthSort,
        sex: search.sex,
        my_number_index: myNumberIndex,
        my_number_enc: myNumberEnc,
        resident_code: search.residentCode,
        residence_card_no: search.residenceCardNo,
        numbers_new: numbersChanged(previous?.record, r),
        record: json,
      });
      last.set(r.personNo, { seq: s.historySeq, kana: kanaSort, record: r, json, search: columns });
    }
    for (const r of h.members) {
      const latest = last.get(r.personNo);
      if (!latest) throw new Error(`generated member ${r.personNo} has no snapshot`);
      residents.push({
        lg_code: lg,
        person_no: r.personNo,
        history_seq: latest.seq,
        kind: r.kind,
        status: r.status,
        household_no: r.householdNo,
        household_order: r.householdOrder,
        relationship: r.relationship,
        removed_on: r.removal?.effectiveDate ?? null,
        planned_move_out: null,
        kana_sort: latest.record === r ? latest.kana : searchColumnsOf(r, normalize).kanaSort,
        record: latest.record === r ? latest.json : JSON.stringify(storedRecord(r)),
      });
    }
  }
  return { households: householdRows, changes, history, residents };
}
