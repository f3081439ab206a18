/**
 * A worker thread of the bulk loader (population.parallel.ts): builds its own batches and writes them to
 * COPY streams of its own, reports each, and commits them when the loader says every worker has written.
 */
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { MunicipalityKeys } from '../keys/index.js';
import { openCopyStreams } from './population.copy.js';
import { ownBatches } from './population.loader.js';
import type { FromPopulationWorker, PopulationWorkerData } from './population.parallel.js';

const data = workerData as PopulationWorkerData;
const port = parentPort!;
const post = (m: FromPopulationWorker) => port.postMessage(m);
const commit = once(port, 'message');

const streams = await openCopyStreams(async () => {
  const client = new pg.Client(data.connection);
  await client.connect();
  return client;
});
const build = { ...data, keys: MunicipalityKeys.fromMaterial(data.keys) };
for (const { batch } of ownBatches(build, data.worker, data.workers)) {
  const { copy, ...counts } = batch;
  await streams.write(copy);
  post({ type: 'batch', counts });
}
post({ type: 'written' });
await commit;
await streams.end();
post({ type: 'committed' });
