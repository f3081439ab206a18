/**
 * The real app (buildApp, as `jumin serve` builds it) on a random local port, in its own process so that
 * the load generator does not share its event loop. Started by bench/run.ts with the benchmark's
 * environment (DATABASE_URL of the benchmark database, key files in bench-data/); prints one JSON line
 * `{"port": n}` when listening and stops on SIGTERM.
 */
import { buildApp } from '../../src/app.js';
import { loadOrCreateAuditKey } from '../../src/audit/index.js';
import { loadConfig } from '../../src/config.js';
import { openPostgres } from '../../src/db/index.js';
import { openKeyring } from '../../src/keys/index.js';

const config = loadConfig(process.env);
if (config.database.kind !== 'postgres') throw new Error('the HTTP benchmark server needs DATABASE_URL');
const handle = openPostgres(config.database.url, { max: Number(process.env['BENCH_POOL'] ?? 10) });
const keyring = await openKeyring(handle.db, config);
await keyring.forMunicipality(config.lgCode);
const app = await buildApp({
  config,
  db: handle.db,
  preparedDb: handle.preparedDb,
  numbering: handle.autonomous,
  keyring,
  auditKey: loadOrCreateAuditKey(config.audit.keyFile, { create: true }),
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(
  `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
);
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => handle.close())
    .finally(() => process.exit(0));
});
