/**
 * HTTP routes for auditors: thin — validate, resolve the acting staff member, call the service. Every
 * route declares the logReview permission (enforced by the staff module's hook; the service checks again).
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { Actor, Clock, Permission } from '../shared/index.js';
import { entryNo } from './access-log.js';
import { AccessLogPage, AccessLogQuery } from './access-log.service.js';
import { AcknowledgementInput, AlertPage, AlertQuery, AlertView } from './alert.service.js';
import type { AuditKey } from './audit-key.js';
import { AuditService } from './audit.service.js';
import { TAMPER_KINDS } from './verify.js';

export interface AuditRouteOptions {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'monitoring'>;
  key: AuditKey;
  formerPublicKeys?: readonly KeyObject[];
  /** Who is acting for this request; throws when nobody is. */
  actorOf: (request: FastifyRequest) => Actor;
}

const CheckpointView = z.object({
  checkpointId: z.number(),
  uptoSeq: z.number(),
  /** The log number (ログ番号) of the last entry sealed. */
  uptoEntryNo: z.string(),
  chainHash: z.string(),
  createdAt: z.string(),
  keyId: z.string(),
});

/** A seal writes one checkpoint per lane with new entries. */
const SealResult = z.object({ sealed: z.boolean(), checkpoints: z.array(CheckpointView) });

const VerificationView = z.object({
  lgCode: z.string(),
  ok: z.boolean(),
  entries: z.number(),
  checkpoints: z.number(),
  lanes: z.array(
    z.object({
      lane: z.number(),
      entries: z.number(),
      lastSeq: z.number(),
      /** Null when the lane has no entry. */
      lastEntryNo: z.string().nullable(),
      checkpoints: z.number(),
      sealedUpto: z.number().nullable(),
      sealedUptoEntryNo: z.string().nullable(),
    }),
  ),
  problems: z.array(
    z.object({
      kind: z.enum(TAMPER_KINDS),
      seq: z.number(),
      toSeq: z.number().optional(),
      entryNo: z.string(),
      toEntryNo: z.string().optional(),
      checkpointId: z.number().optional(),
      message: z.string(),
    }),
  ),
});

const LOG_REVIEW: { permission: Permission } = { permission: 'logReview' };

export const auditRoutes: FastifyPluginAsyncZod<AuditRouteOptions> = async (app, opts) => {
  const { actorOf } = opts;
  const audit = new AuditService(opts);

  app.get(
    '/audit/log',
    {
      config: LOG_REVIEW,
      schema: {
        tags: ['監査'],
        summary: 'アクセスログの検索（操作者・対象者・機能・期間）',
        querystring: AccessLogQuery,
        response: { 200: AccessLogPage },
      },
    },
    async (request) => audit.searchLog(actorOf(request), request.query),
  );

  app.get(
    '/audit/alerts',
    {
      config: LOG_REVIEW,
      schema: {
        tags: ['監査'],
        summary: 'アラートの一覧',
        querystring: AlertQuery,
        response: { 200: AlertPage },
      },
    },
    async (request) => audit.listAlerts(actorOf(request), request.query),
  );

  app.post(
    '/audit/alerts/:alertId/acknowledge',
    {
      config: LOG_REVIEW,
      schema: {
        tags: ['監査'],
        summary: 'アラートの確認（確認済みにする）',
        params: z.object({ alertId: z.coerce.number().int().min(1) }),
        body: AcknowledgementInput,
        response: { 200: AlertView },
      },
    },
    async (request) => audit.acknowledge(actorOf(request), request.params.alertId, request.body.note),
  );

  app.post(
    '/audit/checkpoints',
    {
      config: LOG_REVIEW,
      schema: {
        tags: ['監査'],
        summary: 'チェックポイントの作成（いまのチェーンに署名して封印）',
        response: { 201: SealResult },
      },
    },
    async (request, reply) => {
      const sealed = await audit.sealNow(actorOf(request));
      return reply.code(201).send({
        sealed: sealed.length > 0,
        checkpoints: sealed.map((c) => ({
          checkpointId: c.checkpointId,
          uptoSeq: c.uptoSeq,
          uptoEntryNo: entryNo(c.uptoSeq),
          chainHash: c.chainHash,
          createdAt: c.createdAt.toISOString(),
          keyId: c.keyId,
        })),
      });
    },
  );

  app.get(
    '/audit/verification',
    {
      config: LOG_REVIEW,
      schema: {
        tags: ['監査'],
        summary: 'アクセスログの改ざん検証',
        response: { 200: VerificationView },
      },
    },
    async (request) => {
      const chain = await audit.verify(actorOf(request));
      return {
        ...chain,
        lanes: chain.lanes.map((l) => ({
          ...l,
          lastEntryNo: l.entries === 0 ? null : entryNo(l.lastSeq),
          sealedUptoEntryNo: l.sealedUpto === null ? null : entryNo(l.sealedUpto),
        })),
        problems: chain.problems.map((p) => ({
          ...p,
          entryNo: entryNo(p.seq),
          ...(p.toSeq === undefined ? {} : { toEntryNo: entryNo(p.toSeq) }),
        })),
      };
    },
  );
};
