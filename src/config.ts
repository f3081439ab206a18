/**
 * The only reader of process.env. Validated once, typed, frozen. Development defaults (the embedded
 * database, the development identity) are refused when NODE_ENV=production.
 */
import path from 'node:path';
import { z } from 'zod';

const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().url().optional(),
  JUMIN_DATA_DIR: z.string().default('./data'),
  /** The municipality this deployment serves by default (demo: a fictional city). */
  JUMIN_LG_CODE: z
    .string()
    .regex(/^\d{6}$/)
    .default('999016'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  readonly env: 'development' | 'test' | 'production';
  readonly port: number;
  readonly host: string;
  readonly database:
    | { readonly kind: 'postgres'; readonly url: string }
    | { readonly kind: 'embedded'; readonly dataDir: string };
  readonly lgCode: string;
  readonly logLevel: string;
  /** Until staff login exists, operations act as this identity; never in production. */
  readonly devIdentity: { readonly staffId: string; readonly terminalId: string } | undefined;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new ConfigError(`invalid configuration: ${fields}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.DATABASE_URL) {
    throw new ConfigError(
      'NODE_ENV=production requires DATABASE_URL: the embedded database is for development only',
    );
  }
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL }
      : { kind: 'embedded', dataDir: path.resolve(e.JUMIN_DATA_DIR, 'pglite') },
    lgCode: e.JUMIN_LG_CODE,
    logLevel: e.LOG_LEVEL,
    devIdentity: production ? undefined : { staffId: 'dev-staff', terminalId: 'dev-terminal' },
  };
  return Object.freeze(config);
}
