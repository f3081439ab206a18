/** Japanese labels of the audit codes (access-log functions, outcomes, alert rules, tamper kinds). */

export const FUNCTION_LABEL: Readonly<Record<string, string>> = {
  login: 'ログイン',
  loginFailed: 'ログイン失敗',
  logout: 'ログアウト',
  secondFactorFailed: '確認コード誤り',
  sessionEnded: 'セッション終了',
  search: '検索',
  inquiry: '照会',
  reveal: '非表示項目の表示',
  change: '異動',
  issuance: '証明書発行',
  export: '出力',
  permissionChange: '権限の変更',
  staffAdmin: '職員管理',
  batch: 'バッチ処理',
  auditSearch: 'ログ検索（監査）',
  alertAcknowledged: 'アラートの確認',
  checkpoint: 'チェックポイント作成',
  suppression: '抑止',
  supportMeasure: '支援措置',
  backup: 'バックアップ・復元',
  keyRotation: '暗号鍵の更新',
};

export const OUTCOME_LABEL: Readonly<Record<string, string>> = {
  success: '成功',
  refused: '拒否',
  failed: '失敗',
};

export const RULE_LABEL: Readonly<Record<string, string>> = {
  offHours: '時間外・休日のアクセス',
  loginFailures: 'ログインの連続失敗',
  massSearch: '大量検索',
  supportMeasureSubject: '支援措置対象者の記録の参照',
  sameSurnameAndAddress: '操作者と同じ氏・住所の記録の参照',
  searchWithoutTransaction: '事務処理を伴わない検索',
  supportMeasureEnding: '支援措置の期間終了が近い',
  supportMeasureEnded: '支援措置の期間が延長されないまま終了',
  backupFailed: 'バックアップの失敗',
};

export const TAMPER_LABEL: Readonly<Record<string, string>> = {
  deleted: '削除',
  inserted: '挿入',
  edited: '改変',
  reordered: '順序の入替え',
  checkpoint: 'チェックポイント不一致',
};

const JST = new Intl.DateTimeFormat('ja-JP', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** An instant as Japan time: '2026/11/26 16:05:09'. */
export function formatJst(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : JST.format(d);
}

/** A `datetime-local` value read as Japan time, as an ISO instant with its offset ('' stays ''). */
export function jstInputToIso(value: string): string {
  if (!value) return '';
  return `${value.length === 16 ? `${value}:00` : value}+09:00`;
}

const DETAIL_LABEL: Readonly<Record<string, string>> = {
  function: '機能',
  persons: '対象者数',
  reason: '理由',
  japanDate: '日付',
  failures: '失敗回数',
  windowMinutes: '集計期間（分）',
  terminalId: '端末',
  searchesLastHour: '直近1時間の検索数',
  baselinePerHour: '平常時の1時間あたり検索数',
  threshold: 'しきい値',
  measureId: '支援措置番号',
  endsOn: '終了日',
  daysLeft: '残り日数',
};

const REASON_LABEL: Readonly<Record<string, string>> = {
  holiday: '祝日',
  closingDay: '年末年始',
  weekend: '土日',
  night: '時間外',
};

/** An alert's details as short Japanese phrases: '機能: 照会'. */
export function formatDetails(details: Record<string, unknown>): string[] {
  return Object.entries(details).map(([key, value]) => {
    const label = DETAIL_LABEL[key] ?? key;
    const text =
      key === 'function' && typeof value === 'string'
        ? (FUNCTION_LABEL[value] ?? value)
        : key === 'reason' && typeof value === 'string'
          ? (REASON_LABEL[value] ?? value)
          : typeof value === 'string'
            ? value
            : JSON.stringify(value);
    return `${label}: ${text}`;
  });
}
