/**
 * HTTP routes of protection (mounted under /api): thin — validate, resolve the acting staff member, call
 * the service (which checks the permission again and parses again: it is the trust boundary for every
 * caller). Setting, releasing and temporarily releasing a suppression each need their own permission.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { Actor, Clock } from '../shared/index.js';
import type { Keyring } from '../keys/index.js';
import { SupportMeasureService } from './support-measure.service.js';
import {
  ApplyInput,
  CaseReleaseInput,
  DecideInput,
  RejectInput,
  TerminateInput,
  TransferInput,
} from './support-measure.js';
import { SuppressionService } from './suppression.service.js';
import { ReleaseInput, SetSuppressionInput } from './suppression.js';

export interface ProtectionRouteOptions {
  db: Db;
  clock: Clock;
  config: Config;
  /** Who is acting for this request (the signed-in staff member); throws when nobody is. */
  actorOf: (request: FastifyRequest) => Actor;
  /** The municipalities' data keys (src/keys), encrypting the details. */
  keyring: Keyring;
}

const SuppressionParams = z.object({ suppressionId: z.coerce.number().int().positive() });
const MeasureParams = z.object({ measureId: z.coerce.number().int().positive() });
const TAG_SUPPRESSION = '抑止';
const TAG_SUPPORT = '支援措置';

export const protectionRoutes: FastifyPluginAsyncZod<ProtectionRouteOptions> = async (app, opts) => {
  const { db, clock, config, actorOf } = opts;
  const settings = {
    audit: { clock, monitoring: config.monitoring },
    keyring: opts.keyring,
    suppressionReleaseMinutes: config.suppressionReleaseMinutes,
  };
  const suppressions = new SuppressionService(db, settings);
  const measures = new SupportMeasureService(db, settings);

  // ── suppression ──────────────────────────────────────────────────────────────────────────────────────

  app.get(
    '/protection/suppressions',
    {
      config: { permission: 'suppression' },
      schema: {
        tags: [TAG_SUPPRESSION],
        summary: '住民または世帯の抑止の一覧（解除・一時解除の履歴と理由を含む）',
        querystring: z.object({ personNo: z.string().optional(), householdNo: z.string().optional() }),
      },
    },
    async (request) => ({ suppressions: await suppressions.list(actorOf(request), request.query) }),
  );

  app.post(
    '/protection/suppressions',
    {
      config: { permission: 'suppression' },
      schema: { tags: [TAG_SUPPRESSION], summary: '抑止の設定', body: SetSuppressionInput },
    },
    async (request, reply) => reply.code(201).send(await suppressions.set(actorOf(request), request.body)),
  );

  app.post(
    '/protection/suppressions/:suppressionId/release',
    {
      config: { permission: 'suppressionRelease' },
      schema: {
        tags: [TAG_SUPPRESSION],
        summary: '抑止の解除',
        params: SuppressionParams,
        body: ReleaseInput,
      },
    },
    async (request) => suppressions.release(actorOf(request), request.params.suppressionId, request.body),
  );

  app.post(
    '/protection/suppressions/:suppressionId/temporary-release',
    {
      config: { permission: 'suppressionTemporaryRelease' },
      schema: {
        tags: [TAG_SUPPRESSION],
        summary: '抑止の一時解除（設定時間の経過後に自動で元に戻る。他システムへは連携しない）',
        params: SuppressionParams,
        body: ReleaseInput,
      },
    },
    async (request) =>
      suppressions.temporaryRelease(actorOf(request), request.params.suppressionId, request.body),
  );

  // ── support measures ─────────────────────────────────────────────────────────────────────────────────

  app.post(
    '/protection/support-measures',
    {
      config: { permission: 'supportMeasure' },
      schema: { tags: [TAG_SUPPORT], summary: '支援措置の申出の受付（仮措置の開始）', body: ApplyInput },
    },
    async (request, reply) => reply.code(201).send(await measures.apply(actorOf(request), request.body)),
  );

  app.get(
    '/protection/support-measures/deadlines',
    {
      config: { permission: 'supportMeasure' },
      schema: { tags: [TAG_SUPPORT], summary: '期間終了が近い、または延長されずに終了した支援措置' },
    },
    async (request) => ({ deadlines: await measures.deadlines(actorOf(request)) }),
  );

  app.get(
    '/protection/support-measures/:measureId',
    {
      config: { permission: 'supportMeasure' },
      schema: {
        tags: [TAG_SUPPORT],
        summary: '支援措置の詳細（担当者のみ。参照は記録される）',
        params: MeasureParams,
      },
    },
    async (request) => measures.details(actorOf(request), request.params.measureId),
  );

  const transitions = [
    [
      'decide',
      DecideInput,
      '支援の決定',
      (a: Actor, id: number, b: unknown) => measures.decide(a, id, b as DecideInput),
    ],
    [
      'reject',
      RejectInput,
      '不支援の決定',
      (a: Actor, id: number, b: unknown) => measures.reject(a, id, b as RejectInput),
    ],
    ['extend', z.object({}), '支援期間の延長', (a: Actor, id: number) => measures.extend(a, id)],
    [
      'terminate',
      TerminateInput,
      '支援の終了（終了通知）',
      (a: Actor, id: number, b: unknown) => measures.terminate(a, id, b as TerminateInput),
    ],
    [
      'transfer',
      TransferInput,
      '転出先への引継ぎ',
      (a: Actor, id: number, b: unknown) => measures.transfer(a, id, b as TransferInput),
    ],
  ] as const;
  for (const [path, body, summary, operate] of transitions) {
    app.post(
      `/protection/support-measures/:measureId/${path}`,
      {
        config: { permission: 'supportMeasure' },
        schema: { tags: [TAG_SUPPORT], summary, params: MeasureParams, body: body.nullish() },
      },
      async (request) => operate(actorOf(request), request.params.measureId, request.body ?? {}),
    );
  }

  app.post(
    '/protection/support-measures/:measureId/case-releases',
    {
      config: { permission: 'supportMeasure' },
      schema: {
        tags: [TAG_SUPPORT],
        summary: '1件限りの解除（次の1回の交付を認める）',
        params: MeasureParams,
        body: CaseReleaseInput,
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await measures.releaseCase(actorOf(request), request.params.measureId, request.body)),
  );
};
