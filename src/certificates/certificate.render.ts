/**
 * Renders a certificate to an A4 PDF: title, header (municipality, address, head of household when
 * requested), one block per person, history when asked, the certification sentence with the date, the
 * mayor's title and seal on the last page, and the issue number with page x/y on every page.
 *
 * Text stays text: one subset-embedded font (certificate.font.ts) with a ToUnicode map, so the PDF is
 * selectable and `pdftotext` reads it back. A glyph maps to one text in ToUnicode; where the same glyph
 * stands for two texts in one document (IPAmj明朝 draws 葛 and 葛󠄀 with one glyph) the later run carries its
 * exact text in an /ActualText span.
 *
 * Deterministic: the same input at the same instant gives the same bytes (creation and modification dates
 * and the file ID come from the issue time; nothing random, no wall clock).
 */
import fs from 'node:fs';
import PDFDocument from 'pdfkit';
import {
  REASONS,
  STATUS_LABEL,
  displayName,
  displayReading,
  formatAddress,
  type CertificateSubject,
  type ResidentRecord,
} from '../registry/index.js';
import { formatFlexDate, formatGregorianJa, formatJapaneseDate, type PlainDate } from '../shared/index.js';
import {
  CERTIFICATE_TITLE,
  CERTIFICATION_SENTENCE,
  type CertificateItem,
  type CertificateType,
} from './certificate.js';
import type { CertificateFont } from './certificate.font.js';

export interface RenderInput {
  readonly type: CertificateType;
  readonly municipality: string;
  readonly mayorTitle: string;
  /** PNG of the mayor's seal; a drawn demo seal when absent. */
  readonly sealPng?: Buffer | undefined;
  readonly font: CertificateFont;
  readonly issuedAt: Date;
  readonly issuedOn: PlainDate;
  /** Without the page part; each page appends `頁/総頁`. */
  readonly issueNumber: string;
  readonly official: boolean;
  /** A preview (見本): marked on every page, never handed out. */
  readonly preview: boolean;
  readonly items: ReadonlySet<CertificateItem>;
  readonly head: ResidentRecord | undefined;
  readonly subjects: readonly CertificateSubject[];
}

export interface RenderedCertificate {
  readonly pdf: Buffer;
  readonly pages: number;
}

const PAGE = { width: 595.28, height: 841.89 };
const LEFT = 42;
const RIGHT = PAGE.width - 42;
const WIDTH = RIGHT - LEFT;
const TOP = 48;
const BOTTOM = PAGE.height - 64;
const LABEL_WIDTH = 118;
const VALUE_WIDTH = WIDTH - LABEL_WIDTH - 12;
const BODY = 9.5;
const ROW_PAD = 4;
const RED = '#c8161d';

/** A label and value on one row of a person's block. */
type Row = readonly [label: string, value: string];

const SEX_LABEL = { male: '男', female: '女' } as const;

const CATEGORY_LABEL: Readonly<Record<string, string>> = {
  midLongTerm: '中長期在留者',
  specialPermanent: '特別永住者',
  temporaryRefuge: '一時庇護許可者',
  provisionalStay: '仮滞在許可者',
  transitionalStay: '出生による経過滞在者又は国籍喪失による経過滞在者',
};

function birthDateOf(r: ResidentRecord): string {
  if (r.kind === 'foreign' && r.birthDate.kind === 'exact') return formatGregorianJa(r.birthDate.date);
  return formatFlexDate(r.birthDate);
}

/** Japanese residents' dates in the era; foreign residents' in the Gregorian calendar. */
function dateFor(r: ResidentRecord, d: PlainDate): string {
  return r.kind === 'foreign' ? formatGregorianJa(d) : formatJapaneseDate(d);
}

function reasonLabel(reason: string): string {
  return (REASONS as Readonly<Record<string, { label: string } | undefined>>)[reason]?.label ?? reason;
}

/** The rows of one person, with only the items requested among those omitted by default. */
export function rowsOf(r: ResidentRecord, type: CertificateType, items: ReadonlySet<CertificateItem>): Row[] {
  const rows: Row[] = [];
  const facts = [`${birthDateOf(r)}生`, `性別　${SEX_LABEL[r.sex]}`];
  if (items.has('householdHead')) facts.push(`続柄　${r.relationship}`);
  rows.push(['生年月日・性別', facts.join('　　')]);
  if (r.kind === 'foreign' && r.name && r.foreign) rows.push(['氏名（英字）', r.foreign.latinName]);
  if (r.formerSurname) rows.push(['旧氏', `${r.formerSurname.surname}（${r.formerSurname.reading}）`]);
  if (r.foreign?.alias) rows.push(['通称', r.foreign.alias.name]);
  if (type === 'moveOutCertificate') {
    rows.push(['住所', formatAddress(r.address)]);
    const planned = r.plannedMoveOut;
    const destination = planned?.destination ?? r.removal?.destination;
    if (destination) rows.push(['転出先', destination.text + (destination.abroad ? '（国外）' : '')]);
    if (planned) {
      rows.push(['転出予定年月日', dateFor(r, planned.plannedDate)]);
      rows.push(['届出年月日', dateFor(r, planned.notifiedOn)]);
    } else if (r.removal) {
      rows.push(['転出年月日', dateFor(r, r.removal.effectiveDate)]);
    }
  } else {
    rows.push(['住民となった年月日', dateFor(r, r.residentSince)]);
    if (r.foreign) rows.push(['外国人住民となった年月日', dateFor(r, r.foreign.foreignResidentSince)]);
    rows.push(['住所', formatAddress(r.address)]);
    rows.push([
      '住所を定めた年月日',
      `${dateFor(r, r.addressSetOn)}　　（届出日　${dateFor(r, r.notifiedOn)}）`,
    ]);
    if (r.previousAddress) {
      rows.push(['前住所', r.previousAddress.text + (r.previousAddress.abroad ? '（国外）' : '')]);
    }
  }
  if (items.has('honseki') && r.kind === 'japanese') {
    const h = r.honseki;
    if (h?.kind === 'registered') {
      rows.push(['本籍', h.address]);
      rows.push(['筆頭者', h.familyRegisterHead]);
    } else {
      rows.push(['本籍・筆頭者', h?.kind === 'none' ? '本籍なし' : '不詳']);
    }
  }
  if (items.has('myNumber')) rows.push(['個人番号', r.myNumber ?? '（記載なし）']);
  if (items.has('residentCode')) rows.push(['住民票コード', r.residentCode ?? '（記載なし）']);
  if (r.foreign) {
    const f = r.foreign;
    if (items.has('nationality')) rows.push(['国籍・地域', f.nationality]);
    if (items.has('foreignCategory')) {
      rows.push(['第30条の45に規定する区分', CATEGORY_LABEL[f.status.category] ?? f.status.category]);
    }
    if (items.has('residenceStatus')) {
      const s = f.status;
      if (s.category === 'midLongTerm') {
        rows.push(['在留資格', s.residenceStatus]);
        rows.push(['在留期間・満了の日', `${s.periodOfStay}　　${formatGregorianJa(s.expiryDate)}`]);
      } else if (s.category === 'temporaryRefuge' || s.category === 'provisionalStay') {
        rows.push([
          '許可の日・期限',
          `${formatGregorianJa(s.permittedOn)}　　${formatGregorianJa(s.expiryDate)}`,
        ]);
      } else if (s.category === 'transitionalStay') {
        rows.push(['経過滞在の始期', formatGregorianJa(s.since)]);
      }
    }
    if (items.has('residenceCardNo')) {
      const s = f.status;
      if (s.category === 'midLongTerm') rows.push(['在留カード番号', s.residenceCardNo]);
      if (s.category === 'specialPermanent') rows.push(['特別永住者証明書番号', s.certificateNo]);
    }
    if (items.has('aliasHistory')) {
      for (const a of f.aliasHistory) {
        const deleted = a.deletedOn ? `　削除　${formatGregorianJa(a.deletedOn)}` : '';
        rows.push(['通称履歴', `${a.name}　記載　${formatGregorianJa(a.enteredOn)}${deleted}`]);
      }
    }
  }
  if (r.status !== 'current' && r.removal) {
    rows.push([
      '消除',
      `${dateFor(r, r.removal.effectiveDate)}　${reasonLabel(r.removal.reason)}（${STATUS_LABEL[r.status]}）`,
    ]);
    if (r.removal.destination && type !== 'moveOutCertificate') {
      rows.push(['転出先', r.removal.destination.text + (r.removal.destination.abroad ? '（国外）' : '')]);
    }
  }
  return rows;
}

function historyRows(s: CertificateSubject): Row[] {
  return s.history.map((h) => {
    const r = h.record;
    const parts = [`${h.reasonLabel}`, `住所　${formatAddress(r.address)}`];
    if (h.notifiedOn) parts.push(`届出日　${dateFor(r, h.notifiedOn as PlainDate)}`);
    if (h.cancelled) parts.push('（取消）');
    return [`${dateFor(r, h.effectiveDate as PlainDate)}`, parts.join('　')] as const;
  });
}

const sealCache = new Map<string, Buffer>();

/** The configured seal image, read once per process. */
export function loadSealImage(path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  let png = sealCache.get(path);
  if (!png) {
    png = fs.readFileSync(path);
    sealCache.set(path, png);
  }
  return png;
}

export async function renderCertificate(input: RenderInput): Promise<RenderedCertificate> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 0,
    bufferPages: true,
    autoFirstPage: false,
    pdfVersion: '1.7',
    lang: 'ja-JP',
    info: {
      Title: CERTIFICATE_TITLE[input.type],
      Author: input.municipality,
      Creator: 'Jumin',
      Producer: 'Jumin',
      CreationDate: input.issuedAt,
      ModDate: input.issuedAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const finished = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });

  doc.font(input.font.pdfFont as unknown as string);
  const mapped = new Map<number, string>();
  /** Draws text; where a glyph already stands for another text in this document, adds /ActualText. */
  const put = (text: string, x: number, y: number, size: number, options: PDFKit.Mixins.TextOptions = {}) => {
    let conflict = false;
    for (const c of input.font.clusters(text)) {
      const before = mapped.get(c.glyphId);
      if (before === undefined) mapped.set(c.glyphId, c.text);
      else if (before !== c.text) conflict = true;
    }
    doc.fontSize(size);
    if (conflict) doc.markContent('Span', { actual: text });
    doc.text(text, x, y, { lineBreak: options.width !== undefined, ...options });
    if (conflict) doc.endMarkedContent();
  };

  const title = CERTIFICATE_TITLE[input.type];
  let y = TOP;
  const newPage = (first: boolean) => {
    doc.addPage({ size: 'A4', margin: 0 });
    doc.lineWidth(0.6).strokeColor('#000000').fillColor('#000000');
    y = TOP;
    put(first ? title : `${title}（続き）`, LEFT, y, first ? 20 : 12, { width: WIDTH, align: 'center' });
    y += first ? 36 : 24;
  };
  const ensure = (height: number) => {
    if (y + height > BOTTOM) newPage(false);
  };
  newPage(true);

  // Header: municipality, address of the household, head of household when requested.
  const first = input.subjects[0]!.record;
  const header: Row[] = [['市区町村名', input.municipality]];
  header.push(['住所', formatAddress(first.address)]);
  if (input.items.has('householdHead') && input.head) header.push(['世帯主', displayName(input.head)]);
  y = drawRows(header, y);
  y += 10;

  input.subjects.forEach((subject, index) => {
    const r = subject.record;
    const rows = rowsOf(r, input.type, input.items);
    const nameHeight = 34;
    const height = nameHeight + rows.reduce((h, row) => h + rowHeight(row), 0) + 8;
    ensure(Math.min(height, BOTTOM - TOP - 40));
    // Name with its reading (振り仮名) above it.
    const top = y;
    doc.rect(LEFT, top, WIDTH, nameHeight).stroke();
    put(`${index + 1}`, LEFT + 4, top + 4, 8);
    put('氏名', LEFT + 20, top + 14, BODY);
    const reading = displayReading(r) + (r.reading.status === 'certified' ? '' : '（振り仮名未確認）');
    put(reading, LEFT + LABEL_WIDTH + 6, top + 3, 7.5, { width: VALUE_WIDTH });
    put(displayName(r), LEFT + LABEL_WIDTH + 6, top + 13, 14, { width: VALUE_WIDTH });
    doc
      .moveTo(LEFT + LABEL_WIDTH, top)
      .lineTo(LEFT + LABEL_WIDTH, top + nameHeight)
      .stroke();
    y = top + nameHeight;
    y = drawRows(rows, y);
    if (subject.history.length > 0) {
      y += 4;
      ensure(20);
      put('【履歴】', LEFT, y, BODY);
      y += 14;
      y = drawRows(historyRows(subject), y);
    }
    y += 10;
  });
  ensure(18);
  put('（以下余白）', LEFT, y, BODY, { width: WIDTH, align: 'right' });
  y += 24;

  // Certification on the last page: sentence, date, mayor's title and seal.
  const certHeight = 120;
  if (y + certHeight > BOTTOM) newPage(false);
  put(CERTIFICATION_SENTENCE[input.type], LEFT + 24, y, 11);
  y += 26;
  put(formatJapaneseDate(input.issuedOn), LEFT + 36, y, 11);
  y += 30;
  doc.fontSize(13);
  const titleWidth = doc.widthOfString(input.mayorTitle);
  const titleX = RIGHT - 80 - titleWidth;
  put(input.mayorTitle, titleX, y + 14, 13);
  drawSeal(RIGHT - 70, y - 4, 56);

  // Every page: the issue number with page x/y, the 公用 mark, the preview mark.
  const range = doc.bufferedPageRange();
  const total = range.count;
  for (let i = 0; i < total; i++) {
    doc.switchToPage(range.start + i);
    const page = `${i + 1}/${total}`;
    doc.fillColor('#000000');
    put(`${input.issueNumber} ${page}`, LEFT, PAGE.height - 44, 8);
    put(`${i + 1} / ${total} 頁`, LEFT, PAGE.height - 44, 8, { width: WIDTH, align: 'right' });
    if (input.official) {
      doc.rect(RIGHT - 52, TOP - 8, 52, 26).stroke();
      put('公用', RIGHT - 52, TOP - 2, 14, { width: 52, align: 'center' });
    }
    if (input.preview) {
      doc.save().fillColor('#999999').fillOpacity(0.35);
      put('見本（交付不可）', LEFT, PAGE.height / 2 - 30, 48, { width: WIDTH, align: 'center' });
      doc.restore();
    }
  }
  doc.end();
  await finished;
  return { pdf: Buffer.concat(chunks), pages: total };

  function rowHeight(row: Row): number {
    doc.fontSize(BODY);
    return Math.max(BODY + 2 * ROW_PAD, doc.heightOfString(row[1], { width: VALUE_WIDTH }) + 2 * ROW_PAD);
  }

  function drawRows(rows: readonly Row[], from: number): number {
    let at = from;
    for (const row of rows) {
      const h = rowHeight(row);
      if (at + h > BOTTOM) {
        newPage(false);
        at = y;
      }
      doc.rect(LEFT, at, WIDTH, h).stroke();
      doc
        .moveTo(LEFT + LABEL_WIDTH, at)
        .lineTo(LEFT + LABEL_WIDTH, at + h)
        .stroke();
      put(row[0], LEFT + 6, at + ROW_PAD, row[0].length > 12 ? 7.5 : BODY, { width: LABEL_WIDTH - 10 });
      put(row[1], LEFT + LABEL_WIDTH + 6, at + ROW_PAD, BODY, { width: VALUE_WIDTH });
      at += h;
    }
    y = at;
    return at;
  }

  function drawSeal(x: number, top: number, size: number) {
    if (input.sealPng) {
      doc.image(input.sealPng, x, top, { fit: [size, size] });
      return;
    }
    // A drawn demo seal (職印の見本): a red square with 〇〇市長之印 in two columns, right to left. The
    // characters are drawn as outlines, not text: a seal is an image, and must not read as words.
    doc.save().lineWidth(2.2).strokeColor(RED).fillColor(RED);
    doc.rect(x, top, size, size).stroke();
    const chars = [...`${input.municipality}長之印`];
    const perColumn = Math.ceil(chars.length / 2);
    const inner = size - 8;
    const cell = Math.min(inner / perColumn, inner / 2);
    chars.forEach((ch, i) => {
      const column = i < perColumn ? 1 : 0;
      const { svg, unitsPerEm } = input.font.outline(ch);
      const scale = (cell * 0.92) / unitsPerEm;
      const cx = x + 4 + column * (inner / 2) + (inner / 2 - cell * 0.92) / 2;
      const baseline = top + 4 + (i % perColumn) * (inner / perColumn) + cell * 0.85;
      doc.save().translate(cx, baseline).scale(scale, -scale).path(svg).fill(RED).restore();
    });
    doc.restore();
  }
}
