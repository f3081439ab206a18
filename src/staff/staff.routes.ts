/**
 * Staff administration routes (mounted under /api), all requiring `staffAdmin`. Thin: validate, resolve
 * the acting administrator, call the service (which keeps every act inside the administrator's own
 * municipality).
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { systemClock } from '../shared/index.js';
import { actorOf } from './auth.plugin.js';
import type { StaffRouteOptions } from './auth.routes.js';
import { CreatedStaff, NewStaffInput, SessionView, Staff, StaffName } from './staff.js';
import { PermissionChange, StaffService } from './staff.service.js';

const TAGS = ['職員管理'];
const admin = { permission: 'staffAdmin' } as const;
const StaffParams = z.object({ staffId: z.string().max(64) });

export const staffRoutes: FastifyPluginAsyncZod<StaffRouteOptions> = async (app, opts) => {
  const staff = new StaffService(opts.db, opts.config, opts.clock ?? systemClock, opts.keyring);

  app.get(
    '/staff',
    { config: admin, schema: { tags: TAGS, summary: '職員の一覧', response: { 200: z.array(Staff) } } },
    async (request) => staff.list(actorOf(request)),
  );

  app.get(
    '/staff-names',
    {
      config: { permission: 'logReview' },
      schema: {
        tags: ['監査'],
        summary: '職員の氏名（アクセスログ・アラートの操作者の表示用）',
        response: { 200: z.array(StaffName) },
      },
    },
    async (request) => staff.directory(actorOf(request)),
  );

  app.post(
    '/staff',
    {
      config: admin,
      schema: {
        tags: TAGS,
        summary: '職員の登録（TOTP の秘密鍵はこの応答でのみ表示）',
        body: NewStaffInput,
        response: { 201: CreatedStaff },
      },
    },
    async (request, reply) => reply.code(201).send(await staff.create(actorOf(request), request.body)),
  );

  app.get(
    '/staff/:staffId',
    {
      config: admin,
      schema: { tags: TAGS, summary: '職員の照会', params: StaffParams, response: { 200: Staff } },
    },
    async (request) => staff.get(actorOf(request), request.params.staffId),
  );

  app.post(
    '/staff/:staffId/permissions/grant',
    {
      config: admin,
      schema: {
        tags: TAGS,
        summary: '権限の付与',
        params: StaffParams,
        body: PermissionChange,
        response: { 200: Staff },
      },
    },
    async (request) => staff.grant(actorOf(request), request.params.staffId, request.body),
  );

  app.post(
    '/staff/:staffId/permissions/revoke',
    {
      config: admin,
      schema: {
        tags: TAGS,
        summary: '権限の取消し',
        params: StaffParams,
        body: PermissionChange,
        response: { 200: Staff },
      },
    },
    async (request) => staff.revoke(actorOf(request), request.params.staffId, request.body),
  );

  app.post(
    '/staff/:staffId/unlock',
    {
      config: admin,
      schema: { tags: TAGS, summary: 'ロックの解除', params: StaffParams, response: { 200: Staff } },
    },
    async (request) => staff.unlock(actorOf(request), request.params.staffId),
  );

  app.post(
    '/staff/:staffId/disable',
    {
      config: admin,
      schema: {
        tags: TAGS,
        summary: 'アカウントの無効化（セッションも終了）',
        params: StaffParams,
        response: { 200: Staff },
      },
    },
    async (request) => staff.disable(actorOf(request), request.params.staffId),
  );

  app.get(
    '/sessions',
    {
      config: admin,
      schema: {
        tags: TAGS,
        summary: 'ログイン中のセッションの一覧',
        response: { 200: z.array(SessionView) },
      },
    },
    async (request) => staff.sessions(actorOf(request)),
  );

  app.post(
    '/sessions/:sessionId/end',
    {
      config: admin,
      schema: {
        tags: TAGS,
        summary: 'セッションの強制終了',
        params: z.object({ sessionId: z.string().max(128) }),
      },
    },
    async (request, reply) => {
      await staff.endSession(actorOf(request), request.params.sessionId);
      return reply.code(204).send();
    },
  );
};
