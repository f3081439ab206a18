/** The permissions of the system and their Japanese labels (as in the server's shared/actor.ts). */

export const PERMISSION_LABEL = {
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
} as const satisfies Record<string, string>;

export type Permission = keyof typeof PERMISSION_LABEL;

export const PERMISSIONS = Object.keys(PERMISSION_LABEL) as Permission[];

export function permissionLabel(p: string): string {
  return (PERMISSION_LABEL as Record<string, string>)[p] ?? p;
}
