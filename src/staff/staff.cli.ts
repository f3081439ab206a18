/**
 * `jumin staff …`: the operator's way in before anyone can sign in. `staff create --admin` makes the
 * first administrator (who then administers everyone else through the API); `staff otp` prints a demo
 * account's current code, outside production only.
 */
import readline from 'node:readline';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { ConfigError } from '../config.js';
import { systemActor, systemClock, type Permission } from '../shared/index.js';
import { totpCode } from './credentials.js';
import { DEMO_ACCOUNTS } from './demo-staff.js';
import { StaffService } from './staff.service.js';
import { LgCode } from './staff.js';
import { openKeyring, type Keyring } from '../keys/index.js';

export interface StaffCliDeps {
  loadConfig: () => Config;
  openDatabase: (config: Config) => Promise<DatabaseHandle>;
  migrateToLatest: (db: DatabaseHandle['db']) => Promise<string[]>;
  /**
   * Registers the municipality if it is not yet (a fresh database, before the first `serve`), so the
   * first administrator can be created right after installing. Without it, an unregistered municipality
   * is refused.
   */
  ensureMunicipality?: (db: DatabaseHandle['db'], lgCode: string) => Promise<void>;
  /** The keyring sealing the TOTP secret; the configured one (src/keys `openKeyring`) when not given. */
  openKeyring?: (db: DatabaseHandle['db'], config: Config) => Promise<Keyring>;
}

interface CreateOptions {
  login: string;
  name: string;
  familyName: string;
  address?: string;
  admin?: boolean;
  lg?: string;
}

/** Reads a line without echoing it (a password typed at a terminal). */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    let muted = false;
    // readline has no "hide input" option; silencing its echo is the usual way.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (!muted) process.stdout.write(s);
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

async function newPassword(): Promise<string> {
  // A one-shot secret for one command, not configuration: read here rather than kept in the frozen config.
  const fromEnv = process.env['JUMIN_NEW_PASSWORD'];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new ConfigError('set JUMIN_NEW_PASSWORD, or run on a terminal to type the password');
  }
  const first = await promptHidden('パスワード: ');
  const second = await promptHidden('パスワード（確認）: ');
  if (first !== second) throw new ConfigError('the two passwords differ');
  return first;
}

async function withDatabase<T>(deps: StaffCliDeps, config: Config, work: (h: DatabaseHandle) => Promise<T>) {
  const handle = await deps.openDatabase(config);
  try {
    await deps.migrateToLatest(handle.db);
    return await work(handle);
  } finally {
    await handle.close();
  }
}

function lgCodeOf(config: Config, option: string | undefined): string {
  if (option === undefined) return config.lgCode;
  const parsed = LgCode.safeParse(option);
  if (!parsed.success) throw new ConfigError('--lg must be a 6-digit municipality code');
  return parsed.data;
}

export function registerStaffCommands(program: Command, deps: StaffCliDeps): void {
  const staff = program.command('staff').description('staff accounts (create the first administrator here)');

  staff
    .command('create')
    .description('create a staff account; prints its TOTP secret and otpauth:// URL once')
    .requiredOption('--login <name>', 'login name (ASCII)')
    .requiredOption('--name <display>', 'display name')
    .requiredOption('--family-name <surname>', 'surname (monitoring compares it with opened records)')
    .option('--address <address>', 'home address (monitoring compares it with opened records)')
    .option('--admin', 'grant staff administration (staffAdmin)')
    .option('--lg <code>', 'municipality code (default: JUMIN_LG_CODE)')
    .action(async (opts: CreateOptions) => {
      const config = deps.loadConfig();
      const lgCode = lgCodeOf(config, opts.lg);
      const password = await newPassword();
      const permissions: Permission[] = opts.admin ? ['staffAdmin'] : [];
      const created = await withDatabase(deps, config, async (h) => {
        await deps.ensureMunicipality?.(h.db, lgCode);
        return new StaffService(
          h.db,
          config,
          systemClock,
          await (deps.openKeyring ?? openKeyring)(h.db, config),
        ).create(
          { ...systemActor(lgCode), terminalId: 'cli' },
          {
            loginName: opts.login,
            displayName: opts.name,
            familyName: opts.familyName,
            ...(opts.address ? { address: opts.address } : {}),
            password,
            permissions,
          },
        );
      });
      console.log(`created ${created.staff.loginName} (${created.staff.staffId}) in ${lgCode}`);
      console.log(`permissions: ${created.staff.permissions.join(', ') || '(none)'}`);
      console.log('Enrol this secret in the staff member’s authenticator app now; it is not shown again.');
      console.log(`TOTP secret: ${created.totpSecret}`);
      console.log(`otpauth URL: ${created.otpauthUrl}`);
    });

  staff
    .command('otp')
    .description('print the current TOTP code of an account (demo accounts; refused in production)')
    .requiredOption('--login <name>', 'login name')
    .action((opts: { login: string }) => {
      const config = deps.loadConfig();
      if (config.env === 'production') {
        throw new ConfigError('staff otp is refused when NODE_ENV=production: use the authenticator app');
      }
      // Demo secrets are fixed and documented, so no database is opened: the embedded database belongs to
      // the running server alone (PGlite is one process), and this may run beside it.
      const account = DEMO_ACCOUNTS.find((a) => a.loginName === opts.login);
      if (!account) throw new ConfigError('staff otp prints codes of the demo accounts only');
      console.log(totpCode(account.totpSecret, systemClock.now()));
    });
}
