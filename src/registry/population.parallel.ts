/**
 * The bulk loader's rows built on every core (issue 7): one worker thread per core builds the COPY text of
 * every `workers`-th batch (population.worker.ts) while this thread only writes them to PostgreSQL, in
 * batch order. At 4M residents a single thread building rows was the load's limit (Node at 100 % of one
 * core, the COPY backends at a few per cent).
 *
 * Each worker generates the whole population from the seed — cheap next to building rows — and builds
 * only its own batches; a batch's first change id follows from the changes of the batches before it, which
 * every worker counts. So the output is the same as built on one thread, whatever the number of workers
 * (population.test.ts), except for the random IVs of the encrypted 個人番号.
 *
 * A worker may have WINDOW batches built and not yet written: PostgreSQL paces the load, and memory stays
 * bounded. The keys go to the workers as plain data in memory (MunicipalityKeys.material), never elsewhere.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { MunicipalityKeyMaterial } from '../keys/index.js';
import type { Actor } from '../shared/index.js';
import type { CopyBatch, CopyBatchOptions } from './population.loader.js';
import type { PopulationOptions } from './population.js';

/** Batches a worker may have built ahead of the writer. */
const WINDOW = 3;

export interface PopulationWorkerData {
  population: PopulationOptions;
  keys: MunicipalityKeyMaterial;
  actor: Actor;
  firstChangeId: number;
  batchHouseholds: number;
  /** This worker's number, from 0; it builds the batches whose index modulo `workers` is it. */
  worker: number;
  workers: number;
  window: number;
}

/** A worker's messages; the writer answers each batch with one message when it is written. */
export type FromPopulationWorker =
  { type: 'batch'; index: number; batch: CopyBatch } | { type: 'end'; batches: number };

// The workers run the TypeScript sources as this process does: tsx's loader, registered in the thread.
// The ES module build of tsx/esm/api (its CommonJS build looks for its hooks in the wrong folder).
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

/** Every batch as COPY text, in order, built by `workers` threads. */
export async function* parallelCopyBatches(
  o: CopyBatchOptions & { workers: number },
): AsyncGenerator<CopyBatch> {
  const ready = new Map<number, CopyBatch>();
  let total: number | undefined;
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
      window: WINDOW,
      tsx: TSX_API,
      entry: ENTRY,
    };
    const thread = new Worker(BOOT, { eval: true, workerData });
    thread.on('message', (m: FromPopulationWorker) => {
      if (m.type === 'batch') ready.set(m.index, m.batch);
      else total = m.batches;
      notify();
    });
    thread.on('error', (error) => {
      failure ??= error;
      notify();
    });
    thread.on('exit', (code) => {
      if (!stopping) failure ??= new Error(`a population worker exited (${code})`);
      notify();
    });
    return thread;
  });
  try {
    for (let next = 0; ; next += 1) {
      let batch: CopyBatch | undefined;
      while (!(batch = ready.get(next))) {
        if (failure) throw failure;
        if (total !== undefined && next >= total) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      ready.delete(next);
      yield batch;
      threads[next % o.workers]!.postMessage('written');
    }
  } finally {
    stopping = true;
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
