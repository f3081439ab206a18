/**
 * The database: Kysely over embedded PGlite when DATABASE_URL is unset, over PostgreSQL otherwise.
 * Both parse values the same way: calendar dates stay `YYYY-MM-DD` strings (never a JavaScript Date),
 * int8 becomes a number (ids stay far below 2^53), timestamps become Date instants.
 */
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Database } from './schema.js';
import { PGlitePool } from './pglite-pool.js';

export type { Database } from './schema.js';
export { migrateToLatest, migrateDown, migrationNames } from './migrate.js';

const OID_INT8 = 20;
const OID_DATE = 1082;

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  readonly db: Db;
  readonly kind: 'embedded' | 'postgres';
  /**
   * PostgreSQL only: a new dedicated connection to the same server and schema, outside the pool (for COPY,
   * which the pooled Kysely connections cannot stream). The caller ends it.
   */
  readonly connect?: () => Promise<pg.Client>;
  close(): Promise<void>;
}

/** Opens an embedded database in `dataDir`, or in memory when `dataDir` is undefined. */
export async function openEmbedded(dataDir: string | undefined): Promise<DatabaseHandle> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    extensions: { pg_trgm },
    parsers: {
      [OID_INT8]: (v: string) => Number(v),
      [OID_DATE]: (v: string) => v,
    },
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
  return { db, kind: 'embedded', close: () => db.destroy() };
}

/** Opens a PostgreSQL pool; `searchPath` lets tests isolate themselves in their own schema. */
export function openPostgres(
  url: string,
  options: { searchPath?: string; max?: number } = {},
): DatabaseHandle {
  const settings = {
    connectionString: url,
    // JIT compilation pays off for long analytic queries, not for the counter's short ones: at millions of
    // rows the planner's cost estimates of a name search pass jit_above_cost and compiling costs more than
    // it saves. Jobs that want it may SET LOCAL jit = on.
    options: `-c jit=off${options.searchPath ? ` -c search_path=${options.searchPath}` : ''}`,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === OID_INT8) return (v: string) => Number(v);
        if (oid === OID_DATE) return (v: string) => v;
        return pg.types.getTypeParser(oid, format) as (v: string) => unknown;
      }) as typeof pg.types.getTypeParser,
    },
  };
  const pool = new pg.Pool({ ...settings, max: options.max ?? 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const connect = async () => {
    const client = new pg.Client(settings);
    await client.connect();
    return client;
  };
  return { db, kind: 'postgres', connect, close: () => db.destroy() };
}

export async function openDatabase(config: Config): Promise<DatabaseHandle> {
  return config.database.kind === 'postgres'
    ? openPostgres(config.database.url)
    : openEmbedded(config.database.dataDir);
}
