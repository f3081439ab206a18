/**
 * Render time of a five-member household's 住民票の写し (世帯主・続柄 and 本籍 requested, no history).
 * The font is parsed once, by the warm-up render; then N renders are timed one after another.
 *
 *   npm run bench:certificate [-- N]        (default N = 200)
 *   JUMIN_CERTIFICATE_FONT=… to time another font; IPAmj明朝 when installed, else the npm font.
 *
 * Not part of `npm test`: it is a script, not a *.test.ts file.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { certificateFontPath, loadCertificateFont, renderCertificate } from '../src/certificates/index.js';
import { sampleHousehold } from '../src/certificates/testing.js';
import type { PlainDate } from '../src/shared/index.js';

const runs = Number(process.argv[2] ?? 200);
const fontPath = certificateFontPath(process.env['JUMIN_CERTIFICATE_FONT']);

const parseStart = performance.now();
const font = loadCertificateFont(fontPath);
const parseMs = performance.now() - parseStart;

const { head, subjects } = sampleHousehold(5);
const input = {
  type: 'residentCopy' as const,
  municipality: '架空市',
  mayorTitle: '架空市長　見本　一郎',
  font,
  issuedAt: new Date('2026-11-26T01:00:00Z'),
  issuedOn: '2026-11-26' as PlainDate,
  issueNumber: '令和8年11月26日 架空市 T-01 P1 000001',
  official: false,
  preview: false,
  items: new Set(['householdHead', 'honseki'] as const),
  head,
  subjects,
};

const warmStart = performance.now();
const warm = await renderCertificate(input);
const warmMs = performance.now() - warmStart;

const times: number[] = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  await renderCertificate(input);
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
const mean = times.reduce((s, t) => s + t, 0) / times.length;

console.log(`font          ${font.name} (${fontPath})`);
console.log(
  `machine       ${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}, Node ${process.version}`,
);
console.log(`document      5 members, ${warm.pages} page(s), ${warm.pdf.length} bytes`);
console.log(`font parse    ${parseMs.toFixed(1)} ms (once per process)`);
console.log(`warm-up       ${warmMs.toFixed(1)} ms`);
console.log(`runs          ${runs}`);
console.log(`median        ${at(0.5).toFixed(1)} ms`);
console.log(`p95           ${at(0.95).toFixed(1)} ms`);
console.log(`mean          ${mean.toFixed(1)} ms`);
console.log(`min / max     ${times[0]!.toFixed(1)} / ${times[times.length - 1]!.toFixed(1)} ms`);
