/**
 * Reads a date as a clerk types it — 令和6年4月1日, R6.4.1, 2024-04-01, 2024/4/1 — into `YYYY-MM-DD`, only
 * to show the interpreted date back while typing. The server parses every date again and is the authority.
 */

/** Each era's first and last day. */
const ERAS: Record<string, { start: string; end: string }> = {
  令和: { start: '2019-05-01', end: '9999-12-31' },
  平成: { start: '1989-01-08', end: '2019-04-30' },
  昭和: { start: '1926-12-25', end: '1989-01-07' },
  大正: { start: '1912-07-30', end: '1926-12-24' },
  明治: { start: '1868-01-25', end: '1912-07-29' },
};

const ERA_LETTER: Record<string, string> = { R: '令和', H: '平成', S: '昭和', T: '大正', M: '明治' };

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function realDate(y: number, m: number, d: number): string | undefined {
  if (m < 1 || m > 12 || d < 1) return undefined;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d > last) return undefined;
  return `${String(y).padStart(4, '0')}-${pad(m)}-${pad(d)}`;
}

/** The calendar day the text names, or undefined when it is not (yet) a full, real date. */
export function interpretDate(text: string): string | undefined {
  const t = text.normalize('NFKC').trim().replace(/\s+/g, '');
  if (t === '') return undefined;
  const greg = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(t);
  if (greg) return realDate(Number(greg[1]), Number(greg[2]), Number(greg[3]));
  const era = /^(令和|平成|昭和|大正|明治|[RHSTMrhstm])(元|\d{1,2})[.年/-](\d{1,2})[.月/-](\d{1,2})日?$/.exec(
    t,
  );
  if (!era) return undefined;
  const name = ERA_LETTER[(era[1] ?? '').toUpperCase()] ?? era[1] ?? '';
  const span = ERAS[name];
  if (!span) return undefined;
  const year = era[2] === '元' ? 1 : Number(era[2]);
  const date = realDate(Number(span.start.slice(0, 4)) + year - 1, Number(era[3]), Number(era[4]));
  if (!date || date < span.start || date > span.end) return undefined;
  return date;
}
