/**
 * A worker thread of the bulk loader (population.parallel.ts): generates the population from the seed and
 * builds the COPY text of its own batches, posting each (its buffers transferred, not copied) once the
 * writer has room for it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MunicipalityKeys } from '../keys/index.js';
import { normalizeForSearch } from '../shared/index.js';
import type { FromPopulationWorker, PopulationWorkerData } from './population.parallel.js';
import { changesIn, copyBatchOf, householdBatches, memoized } from './population.loader.js';

const data = workerData as PopulationWorkerData;
const port = parentPort!;
const keys = MunicipalityKeys.fromMaterial(data.keys);
const normalize = memoized(normalizeForSearch);

let credits = data.window;
let resume: (() => void) | undefined;
port.on('message', () => {
  credits += 1;
  resume?.();
  resume = undefined;
});

let index = 0;
let firstChangeId = data.firstChangeId;
for (const batch of householdBatches(data.population, data.batchHouseholds)) {
  if (index % data.workers === data.worker) {
    while (credits === 0) await new Promise<void>((r) => (resume = r));
    credits -= 1;
    const built = copyBatchOf(batch, { keys, actor: data.actor, firstChangeId }, normalize);
    const message: FromPopulationWorker = { type: 'batch', index, batch: built };
    port.postMessage(
      message,
      Object.values(built.copy).map((text) => text.buffer as ArrayBuffer),
    );
  }
  firstChangeId += changesIn(batch);
  index += 1;
}
port.postMessage({ type: 'end', batches: index } satisfies FromPopulationWorker);
