/**
 * Background loads the HTTP step runs search and inquiry under ("search p95 under bulk export ≤ 2× idle").
 *
 * `export` (the default) is the real bulk export as an operator runs it: `jumin export full-set` in its own
 * process (which lowers its own CPU priority, `--nice` 10) with its default pace, again and again. `copy` and
 * `backup` are heavier reads kept for comparison. A load runs until its signal aborts and reports what it
 * moved.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { DatabaseHandle } from '../../src/db/index.js';
import type { KeyProvider } from '../../src/keys/index.js';
import { createBackup } from '../../src/lifecycle/index.js';
import { systemClock } from '../../src/shared/index.js';

export interface BackgroundContext {
  /** The benchmark database (PostgreSQL). */
  url: string;
  handle: DatabaseHandle;
  keys: KeyProvider;
  lgCode: string;
  /** The environment of the benchmark's services (database, key files), for a load run as a process. */
  env: Record<string, string>;
  signal: AbortSignal;
}

export interface BackgroundReport {
  passes: number;
  rows: number;
  bytes: number;
}

export type BackgroundLoad = (ctx: BackgroundContext) => Promise<BackgroundReport>;

/**
 * Repeats one pass until aborted. A pass adds what it moves to `progress` as it goes, so a pass cut off by
 * the abort still counts.
 */
async function loop(
  ctx: BackgroundContext,
  pass: (progress: BackgroundReport) => Promise<void>,
): Promise<BackgroundReport> {
  const report: BackgroundReport = { passes: 0, rows: 0, bytes: 0 };
  while (!ctx.signal.aborted) {
    try {
      await pass(report);
      report.passes += 1;
    } catch (e) {
      if (ctx.signal.aborted) break;
      throw e;
    }
  }
  return report;
}

/**
 * A plain full-table stream: `COPY (every history snapshot joined to its current record) TO STDOUT` on one
 * connection, the bytes counted and dropped. Stands in for the full-set export's read side.
 */
const copyStream: BackgroundLoad = async (ctx) => {
  const client = new pg.Client({ connectionString: ctx.url });
  await client.connect();
  try {
    return await loop(ctx, async (progress) => {
      const stream = client.query(
        copyTo(`COPY (SELECT r.person_no, r.status, r.record, h.history_seq, h.record AS snapshot
                  FROM resident r JOIN resident_history h USING (lg_code, person_no)
                 WHERE r.lg_code = '${ctx.lgCode}') TO STDOUT`),
      );
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          progress.bytes += chunk.length;
          for (const b of chunk) if (b === 10) progress.rows += 1;
          done();
        },
      });
      const cancel = () => stream.destroy(new Error('aborted'));
      ctx.signal.addEventListener('abort', cancel, { once: true });
      try {
        await pipeline(stream, sink);
      } finally {
        ctx.signal.removeEventListener('abort', cancel);
      }
    });
  } finally {
    await client.end().catch(() => {});
  }
};

/** The lifecycle backup (one repeatable-read snapshot of every table, gzip + AES-GCM), as `jumin backup` does. */
const backup: BackgroundLoad = async (ctx) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-bench-bg-'));
  try {
    return await loop(ctx, async (progress) => {
      const made = await createBackup(ctx.handle, dir, { keys: ctx.keys, clock: systemClock });
      fs.rmSync(made.file, { force: true });
      progress.rows += made.rows;
      progress.bytes += made.bytes;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `jumin export full-set --out <tmp>` as a child process, repeated; its file size counted, then deleted. */
const fullSetExport: BackgroundLoad = async (ctx) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-bench-export-'));
  const out = path.join(dir, 'full-set.ndjson.gz');
  try {
    return await loop(ctx, async (progress) => {
      const child = spawn(
        process.execPath,
        [path.join(ROOT, 'bin/jumin.js'), 'export', 'full-set', '--out', out],
        {
          env: { ...process.env, ...ctx.env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const stop = () => child.kill('SIGTERM');
      ctx.signal.addEventListener('abort', stop, { once: true });
      try {
        const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        if (ctx.signal.aborted) {
          // Cut off mid-pass (a paced pass over millions takes minutes): count what it had written.
          progress.bytes += fs.existsSync(`${out}.partial`) ? fs.statSync(`${out}.partial`).size : 0;
          throw new Error('aborted');
        }
        if (code !== 0) throw new Error(`export exited with ${code}: ${output.slice(-500)}`);
        progress.rows += Number(/(\d+) 名（うち除票/.exec(output)?.[1] ?? 0);
        progress.bytes += fs.statSync(out).size;
      } finally {
        ctx.signal.removeEventListener('abort', stop);
        for (const f of [out, `${out}.partial`, `${out}.sha256`]) fs.rmSync(f, { force: true });
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

export const BACKGROUND_LOADS: Record<string, BackgroundLoad> = {
  export: fullSetExport,
  copy: copyStream,
  backup,
};

/** Starts a load; `stop()` aborts it and waits for its report. */
export function startBackground(
  name: string,
  ctx: Omit<BackgroundContext, 'signal'>,
): { stop: () => Promise<BackgroundReport> } {
  const load = BACKGROUND_LOADS[name];
  if (!load)
    throw new Error(`unknown background load ${name} (known: ${Object.keys(BACKGROUND_LOADS).join(', ')})`);
  const controller = new AbortController();
  const running = load({ ...ctx, signal: controller.signal });
  running.catch(() => {}); // reported by stop()
  return {
    stop: async () => {
      controller.abort();
      return running;
    },
  };
}
