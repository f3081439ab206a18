/**
 * The database: Kysely over embedded PGlite when DATABASE_URL is unset, over PostgreSQL otherwise.
 * Both parse values the same way: calendar dates stay `YYYY-MM-DD` strings (never a JavaScript Date),
 * int8 becomes a number (ids stay far below 2^53), timestamps become Date instants.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Duplex } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Database } from './schema.js';
import { PGlitePool } from './pglite-pool.js';
import { UNREAD_REPLY } from './sql.js';

export type { Database } from './schema.js';
export { migrateToLatest, migrateDown, migrationNames } from './migrate.js';
export { bigintArray, pipelined, textArray, unreadReply } from './sql.js';

const OID_INT8 = 20;
const OID_DATE = 1082;

export type Db = Kysely<Database>;

/** A PostgreSQL connection's settings as plain data (`new pg.Client(connection)`). */
export interface PgConnection {
  connectionString: string;
  options: string;
}

export interface DatabaseHandle {
  readonly db: Db;
  readonly kind: 'embedded' | 'postgres';
  /**
   * PostgreSQL only: a new dedicated connection to the same server and schema, outside the pool (for COPY,
   * which the pooled Kysely connections cannot stream). The caller ends it.
   */
  readonly connect?: () => Promise<pg.Client>;
  /**
   * PostgreSQL only: what `connect` connects with, as plain data, for a worker thread of this process to
   * open its own connections (the bulk loader's). Holds the server's address and credentials: never logged.
   */
  readonly connection?: PgConnection;
  /**
   * PostgreSQL only: a small pool of its own (two connections) whose statements each commit on their own,
   * outside any transaction of `db`, and without waiting for their WAL flush (`synchronous_commit` off).
   * For a step that must not hold its rows until the caller's transaction commits: the change service takes
   * 宛名番号/世帯番号 from the counters here. Not waiting for the flush loses nothing a caller relies on:
   * the caller uses the result in a transaction that commits later with a synchronous commit, and flushing
   * that commit's WAL record flushes every earlier record, this one's too; if the caller never commits,
   * a counter step lost in a crash only means the number is given again.
   */
  readonly autonomous?: Db;
  /**
   * PostgreSQL only: the pool whose connections prepare each statement once (`prepareStatements`), for
   * the changes and the record inquiries. Each is a handful of short statements keyed by 宛名番号 and the
   * like, the same texts every time; parsing and planning them anew took about a third of PostgreSQL's
   * time in a change, and three fifths in an inquiry. Searches stay on `db`, planned for the values they
   * are given. A `SELECT *` prepared before a migration changed its table's columns fails on that
   * connection: migrations run before a server serves.
   */
  readonly preparedDb?: Db;
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
  const pool = new pg.Pool({ ...settings, pipeline: true, max: options.max ?? 10 });
  pipelineUnread(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const preparedPool = new pg.Pool({ ...settings, pipeline: true, max: options.max ?? 10 });
  prepareStatements(preparedPool);
  pipelineUnread(preparedPool);
  const prepared = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparedPool }) });
  const autonomousPool = new pg.Pool({
    ...settings,
    options: `${settings.options} -c synchronous_commit=off`,
    max: 2,
  });
  // The counters' statement runs once for every change that gives a number: parse it once per connection.
  prepareStatements(autonomousPool);
  const autonomous = new Kysely<Database>({ dialect: new PostgresDialect({ pool: autonomousPool }) });
  const connect = async () => {
    const client = new pg.Client(settings);
    await client.connect();
    return client;
  };
  return {
    db,
    kind: 'postgres',
    connect,
    connection: { connectionString: url, options: settings.options },
    autonomous,
    preparedDb: prepared,
    close: async () => {
      await Promise.all([db.destroy(), prepared.destroy(), autonomous.destroy()]);
    },
  };
}

/** Statements a pooled connection prepares at most; past that, statements go unnamed (parsed each time). */
const MAX_PREPARED = 500;

/** Statement names by text, shared by every connection: each text is hashed once, not at every run. */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `jumin_${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`;
    // Bounded like each connection's own set: texts past it are hashed each time.
    if (statementNames.size < MAX_PREPARED) statementNames.set(text, name);
  }
  return name;
}

/**
 * Makes the pool's connections prepare each statement that has parameters under a name taken from its
 * text, and run it by that name after: PostgreSQL then parses it once per connection and, after five runs,
 * keeps a generic plan when that costs no more than planning for the values (plan_cache_mode auto). Kysely
 * puts every value in a parameter, so the texts are the queries' shapes, a bounded set.
 */
function prepareStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const prepared = new Set<string>();
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    const named = (text: string, values: unknown[]) => {
      const name = statementName(text);
      if (!prepared.has(name) && prepared.size >= MAX_PREPARED) return undefined;
      prepared.add(name);
      return { name, text, values };
    };
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const [text, values] = args;
      const config =
        args.length === 2 && typeof text === 'string' && Array.isArray(values) && values.length > 0
          ? named(text, values)
          : undefined;
      return config ? query(config) : query(...args);
    };
  });
}

type QueryFn = (...args: unknown[]) => Promise<unknown>;

/** Kysely's texts that open and end a transaction (`start transaction …` when it has settings). */
const TRANSACTION_START = /^(begin|start transaction)\b/i;
const TRANSACTION_END = /^(commit|rollback)\b(?!\s+to\b)/i;

/** What a statement whose reply is not awaited answers at once. */
const NO_ROWS = { command: 'SELECT', rowCount: 0, rows: [], fields: [] };

/**
 * Pipelines the statements of a transaction whose replies no one reads: the transaction's BEGIN, and
 * statements marked `unreadReply` (src/db/sql.ts), such as a change's writes. Such a statement answers at
 * once and is held; it goes to the server together with the transaction's next statement, whose reply
 * then waits for both (the pool's clients are in `pipeline` mode: a query is written without waiting for
 * the replies before it). If it failed, that next statement fails with its error instead (it ran, if at
 * all, in the aborted transaction, so nothing of it holds) — in the end the COMMIT, which PostgreSQL turns
 * into a rollback, fails so. A ROLLBACK drops what is held and ignores its errors. Outside a transaction a
 * marked statement is sent and awaited as any other: no later statement on the connection is sure to come.
 *
 * Whatever the client writes in one turn of the event loop goes out in one write (the socket is corked
 * until the turn ends): the held statements with the next, and the statements `pipelined` sends together.
 * Each write is a system call that also wakes the server's process: a quarter of the Node CPU of a change
 * went to them. A counter transaction (a search, an inquiry, a change) so saves a round trip and a write
 * for each statement held.
 */
function pipelineUnread(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const target = client as unknown as { query: QueryFn; connection: { stream: Duplex } };
    const query = target.query.bind(client);
    const stream = target.connection.stream;
    let corked = false;
    const write = (args: unknown[]) => {
      if (!corked) {
        corked = true;
        stream.cork();
        process.nextTick(() => {
          corked = false;
          stream.uncork();
        });
      }
      return query(...args);
    };
    let inTransaction = false;
    /** Statements answered but not yet sent, the BEGIN first if the transaction sent nothing yet. */
    let held: unknown[][] = [];
    let begun = false;
    target.query = (...args: unknown[]) => {
      const [text, values] = args;
      if (typeof text !== 'string') {
        // A COPY or a cursor (a query object): pg refuses these in pipeline mode; none may pass what is held.
        if (held.length > 0) throw new Error('a query object cannot follow a held statement');
        return write(args);
      }
      const withoutValues = values === undefined || (Array.isArray(values) && values.length === 0);
      if (!inTransaction && withoutValues && TRANSACTION_START.test(text)) {
        inTransaction = true;
        begun = false;
        held = [args];
        return Promise.resolve(NO_ROWS);
      }
      if (inTransaction && text.startsWith(UNREAD_REPLY)) {
        held.push(args);
        return Promise.resolve(NO_ROWS);
      }
      const before = held;
      held = [];
      if (TRANSACTION_END.test(text)) {
        inTransaction = false;
        // Nothing of the transaction reached the server: nothing to undo. Otherwise what is held is dropped.
        if (/^rollback/i.test(text)) {
          return begun ? write(args) : Promise.resolve({ ...NO_ROWS, command: 'ROLLBACK' });
        }
      }
      if (before.length === 0) return write(args);
      begun = true;
      const failures = before.map((a) =>
        write(a).then(
          () => undefined,
          (error: unknown) => ({ error }),
        ),
      );
      const reply = write(args);
      return Promise.all(failures).then((outcomes) => {
        const failed = outcomes.find((o) => o !== undefined);
        if (failed === undefined) return reply;
        reply.catch(() => undefined);
        throw failed.error;
      });
    };
  });
}

export async function openDatabase(config: Config): Promise<DatabaseHandle> {
  return config.database.kind === 'postgres'
    ? openPostgres(config.database.url)
    : openEmbedded(config.database.dataDir);
}
