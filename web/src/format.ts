/** Display helpers: dates in the Japanese era with the Gregorian year, labels of codes. */
import type { FlexDate, MaskableItem, Sex } from './types.js';

const ERAS = [
  { name: '令和', start: '2019-05-01' },
  { name: '平成', start: '1989-01-08' },
  { name: '昭和', start: '1926-12-25' },
  { name: '大正', start: '1912-07-30' },
  { name: '明治', start: '1868-01-25' },
] as const;

const JAPAN_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/**
 * Today in Japan as YYYY-MM-DD — the register's calendar day, the one the server uses (shared/clock.ts),
 * whatever time zone the terminal is set to.
 */
export function todayIso(): string {
  return JAPAN_DAY.format(new Date());
}

/** '2024-04-01' → '令和6年4月1日（2024年）'. */
export function formatDate(date: string | undefined): string {
  if (!date) return '';
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const era = ERAS.find((e) => date >= e.start);
  if (!era) return `${y}年${m}月${d}日`;
  const year = y - Number(era.start.slice(0, 4)) + 1;
  return `${era.name}${year === 1 ? '元' : year}年${m}月${d}日（${y}年）`;
}

export function formatFlexDate(d: FlexDate): string {
  return d.kind === 'exact' ? formatDate(d.date) : d.text;
}

export const SEX_LABEL: Record<Sex, string> = { male: '男', female: '女' };

export const MASKED_LABEL: Record<MaskableItem, string> = {
  myNumber: '個人番号',
  residentCode: '住民票コード',
  honseki: '本籍・筆頭者',
  residenceStatus: '在留資格等',
};

/** The permission that lets a staff member reveal each hidden item. */
export const REVEAL_PERMISSION: Record<MaskableItem, string> = {
  myNumber: 'myNumberView',
  residentCode: 'residentCodeView',
  honseki: 'honsekiView',
  residenceStatus: 'residenceStatusView',
};

export const PROCESS_LABEL: Record<string, string> = {
  inquiry: '照会',
  certificate: '証明書',
  change: '異動',
};

export function suppressionLabel(s: { process: string; level: string }): string {
  return `抑止（${PROCESS_LABEL[s.process] ?? s.process}・${s.level === 'error' ? '禁止' : '注意'}）`;
}
