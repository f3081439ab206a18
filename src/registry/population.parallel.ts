/**
 * A bulk load's rows built and written on every core (issue 7): one worker thread per core generates the
 * population from the seed, builds the COPY text of every `workers`-th batch and writes it to COPY streams
 * of its own (population.worker.ts). At 4M residents one thread building the rows was the load's limit
 * (Node at 100 % of one core, the COPY backends at a few per cent). The text stays in the thread that built
 * it: handing buffers of megabytes to another thread to write cost that thread more than building them
 * (page mapping and kernel copies, measured at 4M).
 *
 * Each worker generates the whole population — cheap next to building rows — and builds only its own
 * batches; a batch's first change id follows from the changes of the batches before it, which every worker
 * counts (population.loader.ts ownBatches). So the rows are those one thread would build, whatever the
 * number of workers, except for the random IVs of the encrypted 個人番号.
 *
 * All or nothing, as far as the server allows: a worker writes all its batches, then waits; only when every
 * worker has written all of its own are the COPYs ended (committed). A failure before that — a worker's
 * error, or the caller stopping — terminates the workers, whose connections then close and abort their
 * COPYs. Bulk mode only (the caller drops and rebuilds the indexes: population.copy.ts beginBulkLoad).
 * The keys go to the workers as plain data in memory (MunicipalityKeys.material), never elsewhere.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PgConnection } from '../db/index.js';
import type { MunicipalityKeyMaterial } from '../keys/index.js';
import type { Actor } from '../shared/index.js';
import type { BatchCounts, CopyBatchOptions } from './population.loader.js';
import type { PopulationOptions } from './population.js';

export interface PopulationWorkerData {
  population: PopulationOptions;
  keys: MunicipalityKeyMaterial;
  actor: Actor;
  firstChangeId: number;
  batchHouseholds: number;
  /** This worker's number, from 0; it builds the batches whose index modulo `workers` is it. */
  worker: number;
  workers: number;
  connection: PgConnection;
}

/** A worker's messages: each batch written, all written, committed. The writer answers 'written' with 'commit'. */
export type FromPopulationWorker =
  { type: 'batch'; counts: BatchCounts } | { type: 'written' } | { type: 'committed' };

// The workers run the TypeScript sources as this process does: tsx's loader, registered in the thread. The
// ES module build of tsx/esm/api (its CommonJS build looks for its hooks in the wrong folder).
const TSX_API = (() => {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return pathToFileURL(path.join(path.dirname(manifest), exports['./esm/api']!.import.default)).href;
})();
const ENTRY = new URL('./population.worker.ts', import.meta.url).href;
const BOOT = `
const { workerData } = require('node:worker_threads');
import(workerData.tsx).then((tsx) => { tsx.register(); return import(workerData.entry); });
`;

/**
 * Writes every batch on `workers` threads; yields each batch's counts once it is written (in any order),
 * and returns when every worker's COPYs are committed.
 */
export async function* parallelBulkLoad(
  o: CopyBatchOptions & { workers: number; connection: PgConnection },
): AsyncGenerator<BatchCounts> {
  const written: BatchCounts[] = [];
  let allWritten = 0;
  let committed = 0;
  let failure: Error | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const threads = Array.from({ length: o.workers }, (_, worker) => {
    const workerData: PopulationWorkerData & { tsx: string; entry: string } = {
      population: o.population,
      keys: o.keys.material(),
      actor: o.actor,
      firstChangeId: o.firstChangeId,
      batchHouseholds: o.batchHouseholds,
      worker,
      workers: o.workers,
      connection: o.connection,
      tsx: TSX_API,
      entry: ENTRY,
    };
    const thread = new Worker(BOOT, { eval: true, workerData });
    thread.on('message', (m: FromPopulationWorker) => {
      if (m.type === 'batch') written.push(m.counts);
      else if (m.type === 'written') allWritten += 1;
      else committed += 1;
      notify();
    });
    thread.on('error', (error) => {
      failure ??= error;
      notify();
    });
    thread.on('exit', (code) => {
      // A worker ends (code 0) once it has committed; any other end before the loader stops it is a failure.
      if (!stopping && code !== 0) failure ??= new Error(`a population worker exited (${code})`);
      notify();
    });
    return thread;
  });
  let commitSent = false;
  try {
    for (;;) {
      while (written.length > 0) yield written.shift()!;
      if (failure) throw failure;
      if (allWritten === o.workers && !commitSent) {
        commitSent = true;
        for (const t of threads) t.postMessage('commit');
      }
      if (committed === o.workers) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stopping = true;
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
