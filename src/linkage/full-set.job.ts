/**
 * The full-set export job (一括抽出): streams every current resident (and 除票 with `includeRemoved`) of the
 * actor's municipality as gzip-compressed NDJSON (format in full-set.ts) to a writable stream.
 *
 * Consistency: the whole export reads one snapshot (REPEATABLE READ, READ ONLY), so a change committed
 * while it runs is either wholly in it or wholly absent (never a half-moved household). It takes no
 * locks beyond the ACCESS SHARE every read takes (only DDL waits for it): the counter's changes are
 * never blocked. The price on PostgreSQL is that vacuum cannot remove rows newer than the snapshot until
 * the export ends, which is why the export is paced rather than left idle in its transaction.
 *
 * On the embedded database (PGlite: one connection, for the quick start and tests) the snapshot holds
 * that connection for the whole export, so every other request waits until it ends: export from
 * PostgreSQL in production.
 *
 * Memory: pages by keyset (宛名番号 > last, LIMIT pageSize) inside the snapshot; one page of records at a
 * time, and writes wait for the output's back-pressure (gzip → `out`).
 *
 * The counter first: between pages the job yields to the event loop, and with `maxRowsPerSecond` it
 * sleeps so the average rate stays below that figure (CPU left to the counter on a small machine).
 *
 * Audit: one access-log entry (function 'export') when the export finishes: job, counts, whether the
 * 個人番号 was included; no names, no numbers. A refused export is logged as refused, a failed one
 * (writer error, database error) as failed.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import { findProtectedPersons, suppressionsByPerson } from '../protection/index.js';
import { readRegisterPage, type AuditSettings } from '../registry/index.js';
import { appendAccessLog } from '../audit/index.js';
import { DomainError, PERMISSION_LABEL, requirePermission, type Actor } from '../shared/index.js';
import { FULL_SET_FORMAT, fullSetLine, toFullSetPerson } from './full-set.js';

/** Persons per page: one query for the records, one for suppressions, one for support measures. */
export const DEFAULT_PAGE_SIZE = 500;
/**
 * Default pace of the CLI (persons per second): a cap, so that on a quiet machine the export cannot take
 * whole cores from the counter (Node spends about 50 µs of CPU per person: parse, JSON, gzip). At this
 * rate 4 million residents take about 14 minutes. Measured figures: bench/export.bench.ts.
 */
export const DEFAULT_MAX_ROWS_PER_SECOND = 5_000;

export interface FullSetProgress {
  pages: number;
  persons: number;
  lastPersonNo: string;
}

export interface ExportFullSetOptions {
  db: Db;
  keyring: Keyring;
  audit: AuditSettings;
  actor: Actor;
  /** Receives the gzip bytes; ended when the export completes, destroyed when it fails. */
  out: NodeJS.WritableStream | Writable;
  /** 除票 too (live and archived removed records), marked by their status and removal items. */
  includeRemoved?: boolean;
  /** The 個人番号 in every line; needs the actor's myNumberView permission. */
  withMyNumber?: boolean;
  pageSize?: number;
  /** Upper bound of the average rate; undefined or 0: as fast as the machine goes (still yielding). */
  maxRowsPerSecond?: number | undefined;
  /** Called between pages, inside the snapshot (progress display; tests commit changes here). */
  onPage?: (progress: FullSetProgress) => void | Promise<void>;
  /** A name for the job in the access log (e.g. the receiving system); letters, digits, . _ - only. */
  job?: string;
}

export interface FullSetResult {
  persons: number;
  /** Of them: removed records (除票), only with includeRemoved. */
  removed: number;
  /** Persons with at least one suppression in force. */
  suppressed: number;
  /** Persons protected by a support measure. */
  supportMeasure: number;
  /** Persons whose 個人番号 was written. */
  myNumbers: number;
  pages: number;
  /** Compressed bytes written to `out`, and their SHA-256. */
  bytes: number;
  sha256: string;
  /** The export's day (flags evaluated on it). */
  asOf: string;
  accessLogSeq: number;
  ms: number;
}

const JOB_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export async function exportFullSet(options: ExportFullSetOptions): Promise<FullSetResult> {
  const { db, keyring, audit, actor } = options;
  const includeRemoved = options.includeRemoved ?? false;
  const withMyNumber = options.withMyNumber ?? false;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const job = options.job ?? 'fullSet';
  const started = Date.now();
  const asOf = audit.clock.today();
  const now = audit.clock.now();
  const counts = { persons: 0, removed: 0, suppressed: 0, supportMeasure: 0, myNumbers: 0, pages: 0 };

  const log = (outcome: 'success' | 'refused' | 'failed', extra: Record<string, unknown>) =>
    db.transaction().execute((trx) =>
      appendAccessLog(
        trx,
        {
          lgCode: actor.lgCode,
          staffId: actor.staffId,
          terminalId: actor.terminalId,
          function: 'export',
          outcome,
          myNumberAccessed: withMyNumber && outcome === 'success',
          details: { job, kind: 'fullSet', includeRemoved, withMyNumber, ...counts, ...extra },
        },
        { clock: audit.clock, monitoring: audit.monitoring },
      ),
    );

  try {
    if (!JOB_NAME.test(job)) throw new DomainError('INVALID_JOB_NAME', 'ジョブ名が不正です。');
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) {
      throw new DomainError('INVALID_PAGE_SIZE', 'ページの件数は 1〜10000 で指定してください。');
    }
    requirePermission(actor, 'batch');
    if (withMyNumber && !actor.permissions.has('myNumberView')) {
      throw new DomainError(
        'FORBIDDEN_ITEM',
        `個人番号を出力する権限がありません（必要な権限: ${PERMISSION_LABEL.myNumberView}）。`,
        { item: 'myNumber' },
      );
    }
  } catch (e) {
    if (e instanceof DomainError) await log('refused', { code: e.code, persons: 0 });
    throw e;
  }

  const gzip = createGzip();
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  let failure: Error | undefined;
  const piping = pipeline(gzip, counter, options.out as Writable).catch((e: unknown) => {
    failure ??= e instanceof Error ? e : new Error('output failed');
    throw failure;
  });
  piping.catch(() => undefined); // observed below; never an unhandled rejection
  const throwIfFailed = () => {
    if (failure !== undefined) throw failure;
  };
  const write = async (text: string) => {
    throwIfFailed();
    if (!gzip.write(text)) {
      await Promise.race([once(gzip, 'drain'), piping]);
      throwIfFailed();
    }
  };

  try {
    // Before the snapshot: the first use in a municipality creates its data keys (own transaction).
    const keys = withMyNumber ? await keyring.forMunicipality(actor.lgCode) : undefined;
    await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        // Pages must be walked in index order: with stale statistics (after a bulk load, without
        // autovacuum) the planner may otherwise sort the whole rest of the register for every page.
        await sql`SET LOCAL enable_sort = off`.execute(trx);
        await write(
          fullSetLine({
            type: 'header',
            format: FULL_SET_FORMAT,
            lgCode: actor.lgCode,
            asOf,
            includeRemoved,
            withMyNumber,
          }),
        );
        let after: string | undefined;
        for (;;) {
          const records = await readRegisterPage(trx, {
            lgCode: actor.lgCode,
            after,
            limit: pageSize,
            includeRemoved,
            keys,
          });
          if (records.length === 0) break;
          const hits = await suppressionsByPerson(
            trx,
            actor.lgCode,
            records.map((r) => ({ personNo: r.personNo, householdNo: r.householdNo })),
            now,
            asOf,
          );
          const protectedPersons = await findProtectedPersons(
            trx,
            actor.lgCode,
            records.map((r) => r.personNo),
            asOf,
          );
          let text = '';
          for (const r of records) {
            const line = toFullSetPerson(
              r,
              {
                suppressions: hits.get(r.personNo) ?? [],
                supportMeasure: protectedPersons.has(r.personNo),
              },
              withMyNumber,
            );
            counts.persons += 1;
            if (r.status !== 'current') counts.removed += 1;
            if (line.suppressions.length > 0) counts.suppressed += 1;
            if (line.supportMeasure) counts.supportMeasure += 1;
            if (line.myNumber !== undefined) counts.myNumbers += 1;
            text += fullSetLine(line);
          }
          counts.pages += 1;
          after = records.at(-1)!.personNo;
          await write(text);
          await options.onPage?.({ pages: counts.pages, persons: counts.persons, lastPersonNo: after });
          await pace(started, counts.persons, options.maxRowsPerSecond);
          if (records.length < pageSize) break;
        }
        await write(fullSetLine({ type: 'end', persons: counts.persons }));
      });
    gzip.end();
    await piping;
  } catch (e) {
    const error = failure ?? e;
    gzip.destroy(error instanceof Error ? error : new Error('export failed'));
    await piping.catch(() => undefined);
    // The original error matters more than a log entry that could not be written (database gone).
    await log('failed', { code: codeOf(error) }).catch(() => undefined);
    throw error;
  }

  const { seq } = await log('success', { bytes });
  return { ...counts, bytes, sha256: hash.digest('hex'), asOf, accessLogSeq: seq, ms: Date.now() - started };
}

/**
 * Between pages: always yields to the event loop (a server in the same process keeps answering); with a
 * rate, sleeps until the average since the start is back under it.
 */
async function pace(started: number, persons: number, maxRowsPerSecond: number | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (!maxRowsPerSecond || maxRowsPerSecond <= 0) return;
  const due = started + (persons / maxRowsPerSecond) * 1000;
  const wait = due - Date.now();
  if (wait > 0) await sleep(wait);
}

/** An error's code for the log: a domain code, a Node/PostgreSQL code, or its class; never its message. */
function codeOf(e: unknown): string {
  if (e instanceof DomainError) return e.code;
  if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'string') return e.code;
  return e instanceof Error ? e.name : 'unknown';
}
