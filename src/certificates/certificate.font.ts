/**
 * The certificate font: chosen once, parsed once per process, shared by every document.
 *
 * Order: `config.certificates.font` when set; IPAmj明朝 when installed (Debian `fonts-ipamj-mincho`: it
 * covers the MJ characters, 𠮷 and the Ideographic Variation Sequences such as 葛󠄀); else Noto Serif JP
 * from npm, so that the quick start needs no system package (it has no IVS glyphs for most sequences: the
 * base glyph is drawn, and the text still carries the sequence, see below).
 *
 * Layout. pdfkit asks the font for `layout(text)`; fontkit caches one Glyph object per glyph id and keeps
 * the code points of whichever text first asked for it, so through a shared font the text a PDF maps a
 * glyph to (ToUnicode) would depend on what the process rendered before — neither deterministic nor
 * right. The shared font is therefore wrapped: `layout` maps each character (with its variation selector,
 * if one follows) to its glyph through the font's cmap, including format 14 (variation sequences), and
 * returns fresh glyph records carrying exactly that text. Certificates need no shaping (no ligatures or
 * kerning in a Mincho face), so nothing is lost by not running OpenType features.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';

export const IPAMJ_PATH = '/usr/share/fonts/truetype/ipamj/ipamjm.ttf';
const NPM_FONT = '@expo-google-fonts/noto-serif-jp/400Regular/NotoSerifJP_400Regular.ttf';

export interface CertificateFont {
  /** What pdfkit is given: a font object with the deterministic layout. */
  readonly pdfFont: fontkit.Font;
  readonly path: string;
  readonly name: string;
  /** Glyph ids of the text's characters, one per character (with its selector), in order. */
  clusters(text: string): { text: string; glyphId: number }[];
  /** The outline of a character's glyph as an SVG path in font units (y up), and the units per em. */
  outline(ch: string): { svg: string; unitsPerEm: number };
}

/** The font file certificates use: the configured one, IPAmj明朝 when installed, else the npm font. */
export function certificateFontPath(configured: string | undefined): string {
  if (configured) return configured;
  if (fs.existsSync(IPAMJ_PATH)) return IPAMJ_PATH;
  return createRequire(import.meta.url).resolve(NPM_FONT);
}

const loaded = new Map<string, CertificateFont>();

/** The font at `path`, parsed on first use and kept for the life of the process. */
export function loadCertificateFont(path: string): CertificateFont {
  const cached = loaded.get(path);
  if (cached) return cached;
  const created = fontkit.create(fs.readFileSync(path));
  if (!('glyphsForString' in created)) {
    throw new Error('the certificate font must be one TrueType/OpenType font, not a collection');
  }
  const font = wrap(created, path);
  loaded.set(path, font);
  return font;
}

const isVariationSelector = (cp: number) =>
  (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef);

/**
 * Splits text the way fontkit's `glyphsForString` does: each character, joined by the variation selector
 * that immediately follows it; a selector that follows nothing (or another selector) is dropped.
 */
function splitClusters(text: string): string[] {
  const clusters: string[] = [];
  let open = false;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (isVariationSelector(cp)) {
      if (open) clusters[clusters.length - 1] += ch;
      open = false;
    } else {
      clusters.push(ch);
      open = true;
    }
  }
  return clusters;
}

interface Position {
  xAdvance: number;
  yAdvance: number;
  xOffset: number;
  yOffset: number;
}

function wrap(base: fontkit.Font, path: string): CertificateFont {
  const clusters = (text: string) => {
    const parts = splitClusters(text);
    const glyphs = base.glyphsForString(text);
    return parts.map((part, i) => ({ text: part, glyphId: glyphs[i]?.id ?? 0 }));
  };
  const layout = (text: string) => {
    const glyphs = base.glyphsForString(text);
    const parts = splitClusters(text);
    const records = glyphs.map((g, i) => ({
      id: g.id,
      advanceWidth: g.advanceWidth,
      codePoints: [...(parts[i] ?? '')].map((c) => c.codePointAt(0)!),
    }));
    const positions: Position[] = records.map((g) => ({
      xAdvance: g.advanceWidth,
      yAdvance: 0,
      xOffset: 0,
      yOffset: 0,
    }));
    return {
      glyphs: records,
      positions,
      // pdfkit scales the positions after layout: the width must follow them.
      get advanceWidth() {
        return positions.reduce((sum, p) => sum + p.xAdvance, 0);
      },
    };
  };
  const pdfFont = Object.create(base, { layout: { value: layout } }) as fontkit.Font;
  const outline = (ch: string) => ({
    svg: base.glyphsForString(ch)[0]?.path.toSVG() ?? '',
    unitsPerEm: base.unitsPerEm,
  });
  return { pdfFont, path, name: base.postscriptName, clusters, outline };
}
