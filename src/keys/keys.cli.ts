/**
 * `jumin keys status`, `jumin keys rotate [--dry-run]` and `jumin keys retire <kekId>`.
 *
 * rotate: with the local provider, adds a new KEK version to the master key file; then re-wraps every
 * municipality's data keys under the current KEK in one transaction, checking that each new form unwraps
 * to the same key, and writes an access-log entry per municipality in that transaction. On PostgreSQL it
 * runs while the servers serve: they keep their data keys in memory (the keys do not change) and re-read
 * the master key file when they meet the new version. The embedded database belongs to one process: stop
 * the server, run the command, start the server again.
 *
 * retire: removes an old KEK version from the local master key file once no data key is wrapped by it.
 */
import type { Command } from 'commander';
import { appendAccessLog } from '../audit/index.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { DomainError, systemClock } from '../shared/index.js';
import { LocalKeyProvider } from './key-provider.js';
import { Keyring, type RotationResult } from './keyring.js';
import { openKeyProvider } from './open.js';

export interface KeyCommandDeps {
  loadConfig: () => Config;
  openDatabase: (c: Config) => Promise<DatabaseHandle>;
  migrateToLatest: (db: DatabaseHandle['db']) => Promise<unknown>;
  /** Where output goes (tests capture it). */
  print?: (text: string) => void;
}

export function registerKeyCommands(program: Command, deps: KeyCommandDeps): void {
  const print = deps.print ?? ((text: string) => console.log(text));
  const keys = program.command('keys').description('暗号鍵（データ鍵と鍵暗号化鍵）の管理');

  const withKeyring = async <T>(
    work: (keyring: Keyring, handle: DatabaseHandle, config: Config) => Promise<T>,
  ): Promise<T> => {
    const config = deps.loadConfig();
    const provider = await openKeyProvider(config);
    const handle = await deps.openDatabase(config);
    try {
      await deps.migrateToLatest(handle.db);
      return await work(new Keyring(handle.db, provider), handle, config);
    } finally {
      await handle.close();
    }
  };

  keys
    .command('status')
    .description('list the data keys and the key-encryption key (KEK) wrapping each')
    .action(() =>
      withKeyring(async (keyring) => {
        const current = await keyring.provider.currentKekId();
        print(`現在の鍵暗号化鍵: ${current}`);
        if (keyring.provider instanceof LocalKeyProvider) {
          print(`鍵ファイルの版: ${keyring.provider.kekIds().join(', ')}`);
        }
        for (const k of await keyring.describe()) {
          print(
            `団体 ${k.lgCode} ${k.purpose} v${k.version}: ${k.kekId}${k.kekId === current ? '' : '（旧）'}`,
          );
        }
      }),
    );

  keys
    .command('rotate')
    .description(
      're-wrap every data key under a new key-encryption key (local: adds a KEK version), while serving',
    )
    .option('--dry-run', 'only list what would be re-wrapped')
    .action((options: { dryRun?: boolean }) =>
      withKeyring(async (keyring, handle, config) => {
        const described = await keyring.describe();
        if (options.dryRun) {
          print(
            `再ラップの対象: データ鍵 ${described.length} 件（${countByKek(described)}）。変更はしていません。`,
          );
          return;
        }
        const provider = keyring.provider;
        if (provider instanceof LocalKeyProvider)
          print(`鍵暗号化鍵 ${provider.addVersion()} を追加しました。`);
        const municipalities = new Set(
          (await handle.db.selectFrom('municipality').select('lg_code').execute()).map((m) => m.lg_code),
        );
        const result = await keyring.rotate(async (trx, r) => {
          for (const lgCode of lgCodesOf(r)) {
            // A municipality's log chain needs its municipality row; keys of an unknown code are re-wrapped too.
            if (!municipalities.has(lgCode)) continue;
            await appendAccessLog(
              trx,
              {
                lgCode,
                staffId: 'system',
                terminalId: 'cli',
                function: 'keyRotation',
                outcome: 'success',
                details: {
                  kekId: r.kekId,
                  previousKekIds: [...new Set(r.keys.filter((k) => k.lgCode === lgCode).map((k) => k.from))],
                  dataKeys: r.keys.filter((k) => k.lgCode === lgCode).length,
                },
              },
              { clock: systemClock, monitoring: config.monitoring },
            );
          }
        });
        print(
          `データ鍵 ${result.keys.length} 件（団体 ${lgCodesOf(result).length}）を ${result.kekId} で再ラップし、復号を確認しました。`,
        );
        const old = [...new Set(result.keys.map((k) => k.from))].filter((id) => id !== result.kekId);
        if (old.length > 0 && provider instanceof LocalKeyProvider) {
          print(
            `旧い鍵暗号化鍵（${old.join(', ')}）は \`jumin keys retire <版>\` で鍵ファイルから削除できます。`,
          );
        }
      }),
    );

  keys
    .command('retire')
    .description(
      'remove an old KEK version from the local master key file (refused while any data key uses it)',
    )
    .argument('<kekId>', 'the version to remove, e.g. local:1')
    .action((kekId: string) =>
      withKeyring(async (keyring) => {
        const provider = keyring.provider;
        if (!(provider instanceof LocalKeyProvider)) {
          throw new DomainError(
            'KEK_UNKNOWN',
            'KMS の鍵は KMS 側で無効化・削除してください（jumin keys retire はローカルの鍵ファイル用です）。',
          );
        }
        const inUse = await keyring.countWrappedBy(kekId);
        if (inUse > 0) {
          throw new DomainError(
            'KEK_IN_USE',
            `鍵暗号化鍵 ${kekId} で包まれたデータ鍵が ${inUse} 件あります。先に jumin keys rotate を実行してください。`,
            { kekId, dataKeys: inUse },
          );
        }
        provider.removeVersion(kekId);
        print(`鍵暗号化鍵 ${kekId} を鍵ファイルから削除しました。`);
      }),
    );
}

function lgCodesOf(r: RotationResult): string[] {
  return [...new Set(r.keys.map((k) => k.lgCode))];
}

function countByKek(keys: ReadonlyArray<{ kekId: string }>): string {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k.kekId, (counts.get(k.kekId) ?? 0) + 1);
  return [...counts].map(([id, n]) => `${id}: ${n}`).join(', ') || 'なし';
}
