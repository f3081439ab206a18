/**
 * Terminal registration routes (mounted under /api), requiring `staffAdmin`: register the administrator's
 * own browser as a named terminal (sets the terminal cookie), list, revoke.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { systemClock } from '../shared/index.js';
import { actorOf, setTerminalCookie } from './auth.plugin.js';
import type { StaffRouteOptions } from './auth.routes.js';
import { Terminal, TerminalRegistration } from './terminal.js';
import { TerminalService } from './terminal.service.js';

const TAGS = ['職員管理'];
const admin = { permission: 'staffAdmin' } as const;

export const terminalRoutes: FastifyPluginAsyncZod<StaffRouteOptions> = async (app, opts) => {
  const terminals = new TerminalService(opts.db, opts.config, opts.clock ?? systemClock);

  app.get(
    '/terminals',
    {
      config: admin,
      schema: { tags: TAGS, summary: '登録済みの端末の一覧', response: { 200: z.array(Terminal) } },
    },
    async (request) => terminals.list(actorOf(request)),
  );

  app.post(
    '/terminals',
    {
      config: admin,
      schema: {
        tags: TAGS,
        summary: 'このブラウザを端末として登録（端末 Cookie を設定）',
        body: TerminalRegistration,
        response: { 201: Terminal },
      },
    },
    async (request, reply) => {
      const { terminal, token } = await terminals.register(actorOf(request), request.body);
      setTerminalCookie(reply, token);
      return reply.code(201).send(terminal);
    },
  );

  app.post(
    '/terminals/:terminalId/revoke',
    {
      config: admin,
      schema: {
        tags: TAGS,
        summary: '端末の廃止（以後その端末は unknown として記録）',
        params: z.object({ terminalId: z.string().max(40) }),
      },
    },
    async (request, reply) => {
      await terminals.revoke(actorOf(request), request.params.terminalId);
      return reply.code(204).send();
    },
  );
};
