/**
 * Rendering without a database: the text survives into the PDF (pdftotext), MJ characters and variation
 * sequences with IPAmj明朝, the issue number on every page, byte-identical output, the font parsed once.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ResidentRecord } from '../registry/index.js';
import type { PlainDate } from '../shared/index.js';
import type { CertificateItem } from './certificate.js';
import {
  IPAMJ_PATH,
  certificateFontPath,
  loadCertificateFont,
  type CertificateFont,
} from './certificate.font.js';
import { renderCertificate, type RenderInput } from './certificate.render.js';
import { flat, pdfText, sampleHousehold } from './testing.js';

const ipamjInstalled = fs.existsSync(IPAMJ_PATH);
const NPM_FONT = createRequire(import.meta.url).resolve(
  '@expo-google-fonts/noto-serif-jp/400Regular/NotoSerifJP_400Regular.ttf',
);

function input(font: CertificateFont, overrides: Partial<RenderInput> = {}): RenderInput {
  const { head, subjects } = sampleHousehold(3);
  return {
    type: 'residentCopy',
    municipality: '架空市',
    mayorTitle: '架空市長　見本　一郎',
    font,
    issuedAt: new Date('2026-11-26T01:00:00Z'),
    issuedOn: '2026-11-26' as PlainDate,
    issueNumber: '令和8年11月26日 架空市 T-01 P1 000042',
    official: false,
    preview: false,
    items: new Set<CertificateItem>(),
    head,
    subjects,
    ...overrides,
  };
}

describe('the certificate font', () => {
  it('is IPAmj明朝 when installed, else the npm font, unless one is configured; parsed once', () => {
    expect(certificateFontPath('/fonts/mine.ttf')).toBe('/fonts/mine.ttf');
    expect(certificateFontPath(undefined)).toBe(ipamjInstalled ? IPAMJ_PATH : NPM_FONT);
    expect(loadCertificateFont(NPM_FONT)).toBe(loadCertificateFont(NPM_FONT));
  });

  it('renders with the npm font too (the quick start without system fonts)', async () => {
    const { pdf } = await renderCertificate(input(loadCertificateFont(NPM_FONT)));
    const text = flat(pdfText(pdf));
    expect(text).toContain(flat('山田　太郎'));
    expect(text).toContain(flat('この写しは、住民票の原本と相違ないことを証明する。'));
    expect(pdf.includes('NotoSerifJP')).toBe(true);
  });
});

describe('MJ characters with IPAmj明朝', () => {
  it.skipIf(!ipamjInstalled)(
    '𠮷 and the variation sequence 葛󠄀 survive into the PDF text (skipped: fonts-ipamj-mincho not installed)',
    async () => {
      const font = loadCertificateFont(IPAMJ_PATH);
      const { head, subjects } = sampleHousehold(2, { family: '𠮷田' });
      const second = subjects[1]!;
      // 葛󠄀 (U+845B U+E0100) and plain 葛 in one document: IPAmj draws both with one glyph.
      second.record = ResidentRecord.parse({
        ...second.record,
        name: { family: '葛\u{E0100}西', given: '葛子' },
        address: { text: '架空市葛飾町一丁目1番1号' },
      });
      const { pdf } = await renderCertificate(input(font, { head, subjects }));
      const text = pdfText(pdf);
      expect(text).toContain('𠮷田');
      expect(text).toContain('葛\u{E0100}西');
      expect(text).toContain('葛子');
      expect(text).toContain('架空市葛飾町');
      expect(text).not.toContain('葛\u{E0100}子');
      expect(pdf.includes('IPAmjMincho')).toBe(true);
    },
  );
});

describe('layout', () => {
  it('puts the issue number and page x/y on every page and the certification on the last', async () => {
    const font = loadCertificateFont(certificateFontPath(undefined));
    const { head, subjects } = sampleHousehold(6, { historyEntries: 4 });
    const { pdf, pages } = await renderCertificate(
      input(font, { head, subjects, items: new Set(['householdHead', 'honseki', 'myNumber']) }),
    );
    expect(pages).toBeGreaterThan(1);
    const pageTexts = pdfText(pdf)
      .split('\f')
      .filter((t) => t.trim() !== '');
    expect(pageTexts).toHaveLength(pages);
    pageTexts.forEach((t, i) => {
      expect(t).toContain(`令和8年11月26日 架空市 T-01 P1 000042 ${i + 1}/${pages}`);
      const certified = flat(t).includes(flat('この写しは、住民票の原本と相違ないことを証明する。'));
      expect(certified).toBe(i === pages - 1);
    });
    expect(flat(pageTexts[pages - 1]!)).toContain(flat('架空市長　見本　一郎'));
  });

  it('renders the same bytes for the same input, and other bytes at another time', async () => {
    const font = loadCertificateFont(certificateFontPath(undefined));
    const a = await renderCertificate(input(font));
    const b = await renderCertificate(input(font));
    expect(Buffer.compare(a.pdf, b.pdf)).toBe(0);
    const c = await renderCertificate(input(font, { issuedAt: new Date('2026-11-26T01:00:01Z') }));
    expect(Buffer.compare(a.pdf, c.pdf)).not.toBe(0);
  });

  it('uses a configured seal image instead of the drawn one', async () => {
    const font = loadCertificateFont(certificateFontPath(undefined));
    // A 1×1 red PNG.
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==',
      'base64',
    );
    const { pdf } = await renderCertificate(input(font, { sealPng: png }));
    expect(pdf.includes('/Subtype /Image')).toBe(true);
  });
});
