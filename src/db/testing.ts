/**
 * A fresh, migrated database for one test file: an in-memory PGlite by default, or — when DATABASE_URL is
 * set — a new schema of its own on that PostgreSQL server, dropped when the file is done.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateToLatest, openEmbedded, openPostgres, type DatabaseHandle } from './index.js';

export async function openTestDatabase(): Promise<DatabaseHandle> {
  const url = process.env['DATABASE_URL'];
  if (!url) {
    const handle = await openEmbedded(undefined);
    await migrateToLatest(handle.db);
    return handle;
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const handle = openPostgres(url, { searchPath: `${schema},public`, max: 4 });
  await migrateToLatest(handle.db);
  return {
    db: handle.db,
    kind: 'postgres',
    ...(handle.connect ? { connect: handle.connect } : {}),
    ...(handle.connection ? { connection: handle.connection } : {}),
    ...(handle.autonomous ? { autonomous: handle.autonomous } : {}),
    ...(handle.preparedDb ? { preparedDb: handle.preparedDb } : {}),
    async close() {
      await handle.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP SCHEMA ${schema} CASCADE`);
      await cleanup.end();
    },
  };
}
