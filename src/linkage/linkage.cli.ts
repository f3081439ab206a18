/**
 * `jumin export full-set --out FILE [--include-removed] [--with-my-number --operator ID] [--lg CODE]
 *   [--max-rows-per-second N] [--nice N]`
 *
 * Writes the full set (gzip NDJSON, format in full-set.ts) to `FILE.partial` (mode 0600), renames it to
 * FILE once complete and flushed, and writes `FILE.sha256` (sha256sum format). A failed export leaves no
 * FILE (and removes its partial file). Prints counts, never names.
 *
 * The process lowers its own CPU priority first (`--nice`, default 10): on a machine shared with the
 * counter's server, the scheduler then prefers the server whenever both want a core. The database backend
 * serving the export is another process and keeps its priority; `--max-rows-per-second` bounds its work.
 *
 * The file is not encrypted: the receiver is another system of the municipality, which would need a key
 * exchanged with it, and the backup file format (lifecycle) is bound to backups (its header, its key
 * context, its reader in `restore`). Write it to storage the receiver alone can read, or encrypt it in
 * transit; the 0600 mode keeps other local users out.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { openKeyring } from '../keys/index.js';
import { entryNo, loadOrCreateAuditKey } from '../audit/index.js';
import { PERMISSIONS, systemClock, type Actor, type Clock } from '../shared/index.js';
import {
  DEFAULT_MAX_ROWS_PER_SECOND,
  exportFullSet,
  type ExportFullSetOptions,
  type FullSetResult,
} from './full-set.job.js';

export interface LinkageCommandDeps {
  loadConfig: () => Config;
  openDatabase: (c: Config) => Promise<DatabaseHandle>;
  migrateToLatest: (db: DatabaseHandle['db']) => Promise<string[]>;
  print?: (text: string) => void;
  clock?: Clock;
}

export interface FullSetFileResult extends FullSetResult {
  file: string;
  checksumFile: string;
}

const PARTIAL_SUFFIX = '.partial';
const CHECKSUM_SUFFIX = '.sha256';

/**
 * Exports the full set into `file` through `file.partial` (0600), then `file.sha256`. On failure the
 * partial file is removed and no `file` is created (an earlier `file` of the same name stays as it was).
 */
export async function exportFullSetToFile(
  file: string,
  options: Omit<ExportFullSetOptions, 'out'>,
): Promise<FullSetFileResult> {
  const partial = `${file}${PARTIAL_SUFFIX}`;
  await fsp.rm(partial, { force: true });
  // Opened before the export starts, so a failure always finds (and removes) the file.
  const out = (await fsp.open(partial, 'wx', 0o600)).createWriteStream();
  try {
    const result = await exportFullSet({ ...options, out });
    const handle = await fsp.open(partial, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(partial, file);
    const checksumFile = `${file}${CHECKSUM_SUFFIX}`;
    const tempChecksum = `${checksumFile}${PARTIAL_SUFFIX}`;
    await fsp.writeFile(tempChecksum, `${result.sha256}  ${path.basename(file)}\n`, { mode: 0o600 });
    await fsp.rename(tempChecksum, checksumFile);
    return { ...result, file, checksumFile };
  } catch (e) {
    // Closed before removing: the stream may still hold the file (its error was the export's error).
    out.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
    out.destroy();
    if (!out.closed) await closed;
    await fsp.rm(partial, { force: true });
    throw e;
  }
}

interface FullSetCommandOptions {
  out: string;
  includeRemoved?: boolean;
  withMyNumber?: boolean;
  operator?: string;
  lg?: string;
  maxRowsPerSecond?: string;
  pageSize?: string;
  nice?: string;
}

const LG_CODE = /^\d{6}$/;
const OPERATOR = /^[A-Za-z0-9._-]{1,64}$/;

function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name} must be an integer ${min}..${max}`);
  return n;
}

export function registerLinkageCommands(program: Command, deps: LinkageCommandDeps): void {
  const print = deps.print ?? ((text: string) => console.log(text));
  const clock = deps.clock ?? systemClock;
  const exportCommand = program.command('export').description('他業務システムへの一括抽出');

  exportCommand
    .command('full-set')
    .description('全件データ（現存者、--include-removed で除票も）を gzip NDJSON で書き出す')
    .requiredOption(
      '--out <file>',
      'the file to write (FILE.partial while writing, then FILE and FILE.sha256)',
    )
    .option('--include-removed', 'include removed records (除票), live and archived')
    .option('--with-my-number', 'include the 個人番号 (needs --operator)')
    .option('--operator <staffId>', 'the staff id of the operator responsible')
    .option('--lg <code>', 'municipality (団体コード); default JUMIN_LG_CODE')
    .option(
      '--max-rows-per-second <n>',
      `pace of the export, 0 for unpaced (default ${DEFAULT_MAX_ROWS_PER_SECOND})`,
    )
    .option('--page-size <n>', 'persons per page (default 500)')
    .option('--nice <n>', 'CPU niceness of this process, 0..19 (default 10)')
    .action(async (o: FullSetCommandOptions) => {
      if (o.lg !== undefined && !LG_CODE.test(o.lg)) throw new Error('--lg must be a 6-digit 団体コード');
      if (o.operator !== undefined && !OPERATOR.test(o.operator)) {
        throw new Error('--operator must be a staff id (letters, digits, . _ -)');
      }
      if (o.withMyNumber && !o.operator) throw new Error('--with-my-number needs --operator <staffId>');
      const maxRowsPerSecond =
        intOption('--max-rows-per-second', o.maxRowsPerSecond, 0, 10_000_000) ?? DEFAULT_MAX_ROWS_PER_SECOND;
      const pageSize = intOption('--page-size', o.pageSize, 1, 10_000);
      const nice = intOption('--nice', o.nice, 0, 19) ?? 10;
      if (nice > 0) {
        try {
          os.setPriority(Math.max(os.getPriority(), nice));
        } catch {
          print('注意: プロセスの優先度を下げられませんでした。');
        }
      }
      const config = deps.loadConfig();
      const handle = await deps.openDatabase(config);
      try {
        await deps.migrateToLatest(handle.db);
        const lgCode = o.lg ?? config.lgCode;
        const actor: Actor = {
          lgCode,
          staffId: o.operator ?? 'system',
          terminalId: 'cli',
          permissions: new Set(PERMISSIONS),
        };
        const auditKey = loadOrCreateAuditKey(config.audit.keyFile, { create: config.env !== 'production' });
        const keyring = await openKeyring(handle.db, config);
        const result = await exportFullSetToFile(path.resolve(o.out), {
          db: handle.db,
          keyring,
          audit: { clock, monitoring: config.monitoring, criteriaKey: auditKey.criteriaKey },
          actor,
          includeRemoved: o.includeRemoved ?? false,
          withMyNumber: o.withMyNumber ?? false,
          maxRowsPerSecond,
          ...(pageSize !== undefined ? { pageSize } : {}),
        });
        const seconds = result.ms / 1000;
        print(`団体 ${lgCode}: 一括抽出（${result.asOf} 現在）を ${result.file} に書き出しました。`);
        print(
          `  ${result.persons} 名（うち除票 ${result.removed}、抑止あり ${result.suppressed}、支援措置 ${result.supportMeasure}、個人番号 ${result.myNumbers}）`,
        );
        print(
          `  ${result.bytes} バイト、${seconds.toFixed(1)} 秒（${Math.round(result.persons / Math.max(seconds, 0.001))} 名/秒）`,
        );
        print(
          `  SHA-256 ${result.sha256}（${result.checksumFile}）、アクセスログ #${entryNo(result.accessLogSeq)}`,
        );
      } finally {
        await handle.close();
      }
    });
}
