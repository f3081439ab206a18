/**
 * Who is acting: a signed-in staff member, for one municipality, at one terminal, with the permissions
 * granted to them for that municipality. Every service operation takes one.
 */
import { z } from 'zod';
import { DomainError } from './errors.js';

/**
 * Permissions per function (機能ごとの権限), independent of job title; a staff member may hold several, each
 * granted for one municipality. The *View permissions unmask items that are hidden by default.
 */
export const PERMISSIONS = [
  'inquiry',
  'change',
  'approval',
  'certificate',
  'suppression',
  'suppressionRelease',
  'suppressionTemporaryRelease',
  'supportMeasure',
  'logReview',
  'batch',
  'staffAdmin',
  'myNumberView',
  'residentCodeView',
  'honsekiView',
  'residenceStatusView',
] as const;
export const Permission = z.enum(PERMISSIONS);
export type Permission = z.infer<typeof Permission>;

export const PERMISSION_LABEL: Readonly<Record<Permission, string>> = {
  inquiry: '照会・検索',
  change: '異動入力',
  approval: '審査・決裁',
  certificate: '証明書発行',
  suppression: '抑止',
  suppressionRelease: '抑止の解除',
  suppressionTemporaryRelease: '抑止の一時解除',
  supportMeasure: '支援措置',
  logReview: 'ログ確認（監査）',
  batch: 'バッチ処理',
  staffAdmin: '職員管理',
  myNumberView: '個人番号の表示',
  residentCodeView: '住民票コードの表示',
  honsekiView: '本籍・筆頭者の表示',
  residenceStatusView: '在留資格等の表示',
};

export interface Actor {
  readonly lgCode: string;
  readonly staffId: string;
  readonly terminalId: string;
  /** The staff session this act belongs to; absent for the system's own batch work. */
  readonly sessionId?: string | undefined;
  readonly permissions: ReadonlySet<Permission>;
  /** What monitoring compares records with (same surname and address as the operator). */
  readonly profile?:
    { readonly familyName?: string | undefined; readonly address?: string | undefined } | undefined;
}

export function hasPermission(actor: Actor, permission: Permission): boolean {
  return actor.permissions.has(permission);
}

/** The system itself (batch jobs, start-up work): every permission, no session. */
export function systemActor(lgCode: string): Actor {
  return { lgCode, staffId: 'system', terminalId: 'server', permissions: new Set(PERMISSIONS) };
}

/** Refuses an act the staff member holds no permission for. Routes check too; services never trust them. */
export function requirePermission(actor: Actor, permission: Permission): void {
  if (!actor.permissions.has(permission)) {
    throw new DomainError(
      'FORBIDDEN',
      `この操作を行う権限がありません（必要な権限: ${PERMISSION_LABEL[permission]}）。`,
      {
        permission,
      },
    );
  }
}
