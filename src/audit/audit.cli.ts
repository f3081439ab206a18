/**
 * `jumin audit verify [--lg CODE] [--public-key FILE]` and `jumin audit checkpoint [--lg CODE]`.
 * verify prints a readable report and exits with code 1 when it finds tampering.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { systemClock } from '../shared/index.js';
import { appendAccessLog } from './access-log.service.js';
import { loadOrCreateAuditKey, publicKeyFromPem } from './audit-key.js';
import { entryNo } from './access-log.js';
import { sealAll, sealCheckpoint, sealDetails } from './checkpoint.js';
import { formatReport, verifyAccessLog } from './verify.js';

export interface AuditCommandDeps {
  loadConfig: () => Config;
  openDatabase: (c: Config) => Promise<DatabaseHandle>;
  /** Where output goes (tests capture it). */
  print?: (text: string) => void;
}

const LG_CODE = /^\d{6}$/;

export function registerAuditCommands(program: Command, deps: AuditCommandDeps): void {
  const print = deps.print ?? ((text: string) => console.log(text));
  const audit = program.command('audit').description('アクセスログの検証と封印');

  audit
    .command('verify')
    .description('recompute every hash chain and checkpoint; exit code 1 when tampering is found')
    .option('--lg <code>', 'only this municipality (団体コード)')
    .option('--public-key <file>', 'verify checkpoints with this public key (PEM) instead of the key file')
    .action(async (options: { lg?: string; publicKey?: string }) => {
      const lg = checkLg(options.lg);
      const config = deps.loadConfig();
      // Verifying needs only the public key: never create a key here (that would fail every checkpoint).
      const publicKey = options.publicKey
        ? publicKeyFromPem(fs.readFileSync(options.publicKey, 'utf8'))
        : fs.existsSync(config.audit.keyFile)
          ? loadOrCreateAuditKey(config.audit.keyFile, { create: false }).publicKey
          : undefined;
      const handle = await deps.openDatabase(config);
      try {
        const report = await verifyAccessLog(handle.db, lg, publicKey);
        print(formatReport(report));
        if (!report.ok) process.exitCode = 1;
      } finally {
        await handle.close();
      }
    });

  audit
    .command('checkpoint')
    .description('seal the access log now with a signed checkpoint')
    .option('--lg <code>', 'only this municipality (団体コード)')
    .action(async (options: { lg?: string }) => {
      const lg = checkLg(options.lg);
      const config = deps.loadConfig();
      const key = loadOrCreateAuditKey(config.audit.keyFile, { create: config.env !== 'production' });
      const handle = await deps.openDatabase(config);
      try {
        const sealed = lg
          ? await sealCheckpoint(handle.db, lg, key, systemClock)
          : await sealAll(handle.db, key, systemClock);
        // The operator's act is logged after sealing, so it falls into the next checkpoint: one entry for
        // each municipality sealed.
        for (const lgCode of [...new Set(sealed.map((c) => c.lgCode))]) {
          const mine = sealed.filter((c) => c.lgCode === lgCode);
          await handle.db.transaction().execute((trx) =>
            appendAccessLog(
              trx,
              {
                lgCode,
                staffId: 'system',
                terminalId: 'cli',
                function: 'checkpoint',
                outcome: 'success',
                details: sealDetails(mine),
              },
              { clock: systemClock, monitoring: config.monitoring },
            ),
          );
          for (const c of mine) {
            print(
              `団体 ${c.lgCode}: #${entryNo(c.uptoSeq)} までを封印しました（チェックポイント ${c.checkpointId}）。`,
            );
          }
        }
        if (sealed.length === 0) print('新しい記録はありません。封印は不要です。');
      } finally {
        await handle.close();
      }
    });
}

function checkLg(lg: string | undefined): string | undefined {
  if (lg !== undefined && !LG_CODE.test(lg)) {
    throw new Error('--lg must be a 6-digit 団体コード');
  }
  return lg;
}
