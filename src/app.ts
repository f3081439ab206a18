/**
 * Builds the HTTP app: the shared HTTP conventions (./http.ts), the staff authentication plugin (deny by
 * default), each module's routes under /api, and the OpenAPI document.
 */
import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { auditRoutes, loadOrCreateAuditKey, type AuditKey } from './audit/index.js';
import { certificateRoutes } from './certificates/index.js';
import type { Config } from './config.js';
import type { Db } from './db/index.js';
import { configureHttp, registerSecurityHeaders } from './http.js';
import type { Keyring } from './keys/index.js';
import { protectionRoutes } from './protection/index.js';
import { ChangeService, ResidentService, StatisticsService, registryRoutes } from './registry/index.js';
import { systemClock, type Clock } from './shared/index.js';
import { actorOf, authPlugin, authRoutes, staffRoutes, terminalRoutes } from './staff/index.js';

export interface AppDeps {
  config: Config;
  db: Db;
  /** PostgreSQL's pool for changes and inquiries (`DatabaseHandle.preparedDb`); `db` when not given. */
  preparedDb?: Db | undefined;
  /** PostgreSQL's autonomous connection (`DatabaseHandle.autonomous`), where changes take their numbers. */
  numbering?: Db | undefined;
  clock?: Clock;
  logger?: boolean | object;
  /** The access-log signing key; loaded from `config.audit.keyFile` when not given. */
  auditKey?: AuditKey;
  /** The municipalities' data keys (src/keys: `openKeyring`, or `testKeyring` in tests). */
  keyring: Keyring;
  /** The built staff UI (`npm run build:web`); defaults to `dist/web` of the checkout. */
  webRoot?: string;
}

const DEFAULT_WEB_ROOT = path.resolve(import.meta.dirname, '../dist/web');

/**
 * The staff UI at `/`: its built files when they exist (public: the auth plugin guards only /api), else a
 * page saying how to build it.
 */
async function serveWebUi(app: FastifyInstance, root: string): Promise<void> {
  if (fs.existsSync(path.join(root, 'index.html'))) {
    // One route per built file (no wildcard), so unknown paths, /api ones included, stay plain 404s.
    await app.register(fastifyStatic, { root, wildcard: false, index: 'index.html' });
    return;
  }
  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="ja"><meta charset="utf-8"><title>Jumin 住民記録システム</title>' +
          '<h1>Jumin 住民記録システム</h1><p>職員用画面はまだビルドされていません。' +
          '<code>npm run build:web</code> を実行するか、<code>npm start</code> で起動してください。</p>' +
          '<p>API: <a href="/api/openapi.json">/api/openapi.json</a></p></html>',
      ),
  );
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db } = deps;
  const clock = deps.clock ?? systemClock;
  const auditKey =
    deps.auditKey ?? loadOrCreateAuditKey(config.audit.keyFile, { create: config.env !== 'production' });
  const { keyring } = deps;
  const app = Fastify({
    logger: deps.logger ?? false,
    // Request logs would carry query strings, which may hold names or numbers: none are written.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  configureHttp(app);
  await registerSecurityHeaders(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Jumin API', description: '住民記録システム API', version: '0.1.0' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: '__Host-jumin_session' },
          csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  await app.register(authPlugin, { db, config, clock, keyring });

  const audit = { clock, monitoring: config.monitoring, criteriaKey: auditKey.criteriaKey };
  const changes = new ChangeService(deps.preparedDb ?? db, clock, audit, keyring, {
    numbering: deps.numbering,
  });
  const residents = new ResidentService(
    db,
    audit,
    { inquiryPurposes: config.inquiryPurposes, editLockMinutes: config.editLockMinutes },
    keyring,
    deps.preparedDb,
  );
  await app.register(
    async (api) => {
      await api.register(authRoutes, { db, config, clock, keyring });
      await api.register(staffRoutes, { db, config, clock, keyring });
      await api.register(terminalRoutes, { db, config, clock, keyring });
      await api.register(registryRoutes, {
        changes,
        residents,
        statistics: new StatisticsService(db, audit, { parallel: config.database.kind === 'postgres' }),
        actorOf,
      });
      await api.register(auditRoutes, { db, clock, config, key: auditKey, actorOf });
      await api.register(protectionRoutes, { db, clock, config, actorOf, keyring });
      await api.register(certificateRoutes, { db, clock, config, actorOf, keyring });
      api.get('/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, () =>
        app.swagger(),
      );
      api.get('/health', { config: { permission: 'public' }, schema: { hide: true } }, () => ({
        status: 'ok',
      }));
    },
    { prefix: '/api' },
  );
  await serveWebUi(app, deps.webRoot ?? DEFAULT_WEB_ROOT);
  return app;
}
