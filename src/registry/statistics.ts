/**
 * Annual statistics (住民基本台帳関係年報): the population and households in the register as of a day
 * (by sex, age, area, each split 日本人 / 外国人), and the flows over a period (転入, 転出, 出生, 死亡, 職権記載,
 * 職権消除 and the other entries and removals). Input schema, result types, and the pure rules that turn the
 * database's small aggregate rows into the figures. The counting itself is SQL (statistics.repository.ts),
 * but for the persons each change counts in the flows, taken when the change is written (`flowCountsOf`).
 */
import { z } from 'zod';
import { DomainError, addDays, addYears, type PlainDate } from '../shared/index.js';
import { REASONS, type Reason } from './change.js';
import { DateInput, type ResidentKind, type Sex } from './resident.js';

/** What a caller asks for: the day of the stock (default today) and the period of the flows. */
export const StatisticsQuery = z.object({
  /** 基準日: the stock is counted as the register stood at the end of this day. */
  asOf: DateInput.optional(),
  /** First day of the flow period (inclusive). Default: one year before asOf. */
  from: DateInput.optional(),
  /** Last day of the flow period (inclusive). Default: the day before asOf. */
  to: DateInput.optional(),
});
export type StatisticsQuery = z.input<typeof StatisticsQuery>;

export interface StatisticsPeriod {
  asOf: PlainDate;
  from: PlainDate;
  to: PlainDate;
}

/**
 * The day and period counted. Without a period, the flows cover the year that ends the day before asOf
 * (the 年報 counts the stock on January 1 and the flows of the calendar year before it).
 */
export function resolvePeriod(q: z.output<typeof StatisticsQuery>, today: PlainDate): StatisticsPeriod {
  const asOf = q.asOf ?? today;
  if ((q.from === undefined) !== (q.to === undefined)) {
    throw new DomainError(
      'STATISTICS_PERIOD_INCOMPLETE',
      '集計期間は開始日と終了日の両方を指定してください。',
    );
  }
  const from = q.from ?? addYears(asOf, -1);
  const to = q.to ?? addDays(asOf, -1);
  if (from > to) {
    throw new DomainError(
      'STATISTICS_PERIOD_REVERSED',
      '集計期間の開始日は終了日以前の日付を指定してください。',
    );
  }
  return { asOf, from, to };
}

/** Counts split 日本人 / 外国人 (the 年報 reports both and their sum). */
export interface KindCounts {
  japanese: number;
  foreign: number;
  total: number;
}

export interface SexKindCounts {
  male: KindCounts;
  female: KindCounts;
  total: KindCounts;
}

/** Households by the nationality of their members, as the 年報 splits them. */
export interface HouseholdCounts {
  /** 日本人のみの世帯 */
  japaneseOnly: number;
  /** 外国人のみの世帯 */
  foreignOnly: number;
  /** 複数国籍世帯 (Japanese and foreign members) */
  mixed: number;
  total: number;
}

export interface AreaFigures {
  /** The ward (区) of a designated city, or '' where the address has none. */
  ward: string;
  /** 町丁目 (e.g. 本町一丁目), or undefined on the ward's own line. */
  town?: string;
  population: SexKindCounts;
  households: HouseholdCounts;
}

export const AGE_BANDS = [
  '0-4',
  '5-9',
  '10-14',
  '15-19',
  '20-24',
  '25-29',
  '30-34',
  '35-39',
  '40-44',
  '45-49',
  '50-54',
  '55-59',
  '60-64',
  '65-69',
  '70-74',
  '75-79',
  '80-84',
  '85-89',
  '90-94',
  '95-99',
  '100+',
  'unknown',
] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

export const AGE_GROUPS = ['0-14', '15-64', '65+', 'unknown'] as const;
export type AgeGroup = (typeof AGE_GROUPS)[number];

/** One flow line: a reason (異動事由) counted in persons, split by kind. */
export interface FlowFigure {
  reason: Reason;
  label: string;
  counts: KindCounts;
}

export interface FlowFigures {
  /** 転入 (domestic), 国外からの転入 */
  moveIn: { domestic: KindCounts; abroad: KindCounts; total: KindCounts };
  /** 転出 (domestic), 国外への転出 */
  moveOut: { domestic: KindCounts; abroad: KindCounts; total: KindCounts };
  birth: KindCounts;
  death: KindCounts;
  exOfficioEntry: KindCounts;
  exOfficioRemoval: KindCounts;
  /** Every entry and removal reason, and 転居, with its count (cancelled changes and cancellations excluded). */
  byReason: FlowFigure[];
  /** 記載 and 消除 in all, and the natural (出生 − 死亡) and social (転入 + 職権記載 − 転出 − 職権消除) change. */
  entries: KindCounts;
  removals: KindCounts;
  naturalChange: KindCounts;
  socialChange: KindCounts;
}

export interface AnnualStatistics {
  lgCode: string;
  period: StatisticsPeriod;
  population: {
    total: SexKindCounts;
    byAgeBand: Array<{ band: AgeBand } & SexKindCounts>;
    byAgeGroup: Array<{ group: AgeGroup } & SexKindCounts>;
  };
  households: HouseholdCounts;
  /** Wards, each followed by its 町丁目, in address order. */
  byArea: AreaFigures[];
  flows: FlowFigures;
}

// ---------------------------------------------------------------------------------------------------------
// Rows the repository returns (aggregates, never persons)

/** Persons present on the day, grouped by kind, sex, age in years (null: unknown birth) and area. */
export interface PopulationCell {
  kind: ResidentKind;
  sex: Sex;
  age: number | null;
  /** The address up to the lot number (e.g. 架空市中央区本町一丁目). */
  area: string;
  persons: number;
}

/** Households present on the day, grouped by area and the kinds of their members. */
export interface HouseholdCell {
  area: string;
  hasJapanese: boolean;
  hasForeign: boolean;
  households: number;
}

export interface FlowCell {
  reason: string;
  kind: ResidentKind;
  persons: number;
}

// ---------------------------------------------------------------------------------------------------------
// Pure rules

const zeroKind = (): KindCounts => ({ japanese: 0, foreign: 0, total: 0 });
const zeroSexKind = (): SexKindCounts => ({ male: zeroKind(), female: zeroKind(), total: zeroKind() });
const zeroHouseholds = (): HouseholdCounts => ({ japaneseOnly: 0, foreignOnly: 0, mixed: 0, total: 0 });

function addKind(c: KindCounts, kind: ResidentKind, n: number): void {
  c[kind] += n;
  c.total += n;
}

function addSexKind(c: SexKindCounts, sex: Sex, kind: ResidentKind, n: number): void {
  addKind(c[sex], kind, n);
  addKind(c.total, kind, n);
}

function addHouseholds(c: HouseholdCounts, cell: HouseholdCell): void {
  if (cell.hasJapanese && cell.hasForeign) c.mixed += cell.households;
  else if (cell.hasForeign) c.foreignOnly += cell.households;
  else c.japaneseOnly += cell.households;
  c.total += cell.households;
}

/**
 * Age in completed years on a day, by the plain calendar rule (one year more on the birthday). Japanese
 * law (年齢計算ニ関スル法律) makes the age increase at the end of the day before the birthday; the
 * difference (persons born on the day after the reference day) is ignored here, as the brief allows.
 * The SQL computes the same thing: (yyyymmdd(on) − yyyymmdd(birth)) / 10000.
 */
export function ageOnDay(birth: string, on: string): number {
  const n = (d: string) => Number(d.slice(0, 4) + d.slice(5, 7) + d.slice(8, 10));
  return Math.floor((n(on) - n(birth)) / 10000);
}

export function ageBandOf(age: number | null): AgeBand {
  if (age === null || age < 0) return 'unknown';
  if (age >= 100) return '100+';
  return AGE_BANDS[Math.floor(age / 5)]!;
}

export function ageGroupOf(age: number | null): AgeGroup {
  if (age === null || age < 0) return 'unknown';
  return age < 15 ? '0-14' : age < 65 ? '15-64' : '65+';
}

const WARD_AND_TOWN = /^.*?[市都](?<ward>[^市]+?区)?(?<town>.*)$/u;

/**
 * Splits the address up to the lot number into ward (区 of a designated city, or of Tokyo) and 町丁目:
 * 架空市中央区本町一丁目 → 中央区 / 本町一丁目; 架空市本町 → '' / 本町. An address that names no city is
 * kept whole as the town.
 */
export function splitArea(area: string): { ward: string; town: string } {
  const m = WARD_AND_TOWN.exec(area.trim());
  if (!m?.groups) return { ward: '', town: area.trim() };
  return { ward: m.groups.ward ?? '', town: (m.groups.town ?? '').trim() };
}

const collator = new Intl.Collator('ja', { numeric: true });
const KANJI_DIGITS: Record<string, number> = {
  一: 1,
  二: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};

/** 本町十二丁目 → 本町12丁目, so that 町丁目 sort 一, 二, … 十, 十一 rather than by character code. */
export function areaSortKey(town: string): string {
  return town.replace(/([一二三四五六七八九十]+)丁目/gu, (_m, n: string) => {
    const [tens, ones] = n.includes('十') ? n.split('十') : ['', n];
    const value =
      (n.includes('十') ? (tens ? (KANJI_DIGITS[tens] ?? 0) : 1) * 10 : 0) +
      (ones ? (KANJI_DIGITS[ones] ?? 0) : 0);
    return `${value}丁目`;
  });
}

/** The figures, from the aggregate rows of the repository. */
export function buildStatistics(
  lgCode: string,
  period: StatisticsPeriod,
  population: readonly PopulationCell[],
  households: readonly HouseholdCell[],
  flows: readonly FlowCell[],
): AnnualStatistics {
  const total = zeroSexKind();
  const bands = new Map<AgeBand, SexKindCounts>(AGE_BANDS.map((b) => [b, zeroSexKind()]));
  const groups = new Map<AgeGroup, SexKindCounts>(AGE_GROUPS.map((g) => [g, zeroSexKind()]));
  const areas = new Map<string, AreaFigures>();
  const areaOf = (ward: string, town: string | undefined): AreaFigures => {
    const key = `${ward}\u0000${town ?? ''}\u0000${town === undefined ? 'w' : 't'}`;
    let a = areas.get(key);
    if (!a) {
      a = {
        ward,
        ...(town === undefined ? {} : { town }),
        population: zeroSexKind(),
        households: zeroHouseholds(),
      };
      areas.set(key, a);
    }
    return a;
  };
  for (const c of population) {
    addSexKind(total, c.sex, c.kind, c.persons);
    addSexKind(bands.get(ageBandOf(c.age))!, c.sex, c.kind, c.persons);
    addSexKind(groups.get(ageGroupOf(c.age))!, c.sex, c.kind, c.persons);
    const { ward, town } = splitArea(c.area);
    addSexKind(areaOf(ward, undefined).population, c.sex, c.kind, c.persons);
    addSexKind(areaOf(ward, town).population, c.sex, c.kind, c.persons);
  }
  const householdTotal = zeroHouseholds();
  for (const h of households) {
    addHouseholds(householdTotal, h);
    const { ward, town } = splitArea(h.area);
    addHouseholds(areaOf(ward, undefined).households, h);
    addHouseholds(areaOf(ward, town).households, h);
  }
  const byArea = [...areas.values()].sort(
    (a, b) =>
      collator.compare(a.ward, b.ward) ||
      (a.town === undefined
        ? -1
        : b.town === undefined
          ? 1
          : collator.compare(areaSortKey(a.town), areaSortKey(b.town))),
  );
  return {
    lgCode,
    period,
    population: {
      total,
      byAgeBand: AGE_BANDS.map((band) => ({ band, ...bands.get(band)! })),
      byAgeGroup: AGE_GROUPS.map((group) => ({ group, ...groups.get(group)! })),
    },
    households: householdTotal,
    byArea,
    flows: buildFlows(flows),
  };
}

/** Reasons counted as flows: every entry and removal, and 転居; never a cancellation or its target. */
export const FLOW_REASONS: readonly Reason[] = (Object.keys(REASONS) as Reason[]).filter(
  (r) =>
    r === 'moveWithin' ||
    ((REASONS[r].kind === 'entry' || REASONS[r].kind === 'removal') &&
      r !== 'removalCancelled' &&
      r !== 'entryCancelled'),
);

/** A snapshot as the flows see it. */
export interface FlowSnapshot {
  historySeq: number;
  status: string;
  kind: ResidentKind;
  addressSetOn: string;
}

/**
 * The persons a change counts in the flows, among the snapshots it writes: an entry the persons it entered
 * (their 履歴番号 1), a removal the persons it removed, any other change the persons whose address it set on
 * its effective day (relationship re-sets of other members written by the same change do not count).
 * Stored with the change row when it is written (migration 0019), so the flows read no snapshot; whether
 * the change was cancelled, and whether its reason is a flow, is asked when the flows are counted.
 */
export function flowCountsOf(
  change: { kind: 'entry' | 'removal' | 'correction'; effectiveDate: string },
  snapshots: Iterable<FlowSnapshot>,
): { japanese: number; foreign: number } {
  const counts = { japanese: 0, foreign: 0 };
  for (const s of snapshots) {
    const counted =
      change.kind === 'entry'
        ? s.historySeq === 1
        : change.kind === 'removal'
          ? s.status !== 'current'
          : s.addressSetOn === change.effectiveDate;
    if (counted) counts[s.kind === 'foreign' ? 'foreign' : 'japanese'] += 1;
  }
  return counts;
}

function sumKind(...cs: KindCounts[]): KindCounts {
  const s = zeroKind();
  for (const c of cs) {
    s.japanese += c.japanese;
    s.foreign += c.foreign;
    s.total += c.total;
  }
  return s;
}

function diffKind(a: KindCounts, b: KindCounts): KindCounts {
  return { japanese: a.japanese - b.japanese, foreign: a.foreign - b.foreign, total: a.total - b.total };
}

export function buildFlows(cells: readonly FlowCell[]): FlowFigures {
  const by = new Map<Reason, KindCounts>(FLOW_REASONS.map((r) => [r, zeroKind()]));
  for (const c of cells) {
    const counts = by.get(c.reason as Reason);
    if (counts) addKind(counts, c.kind, c.persons);
  }
  const get = (r: Reason) => by.get(r)!;
  const moveIn = sumKind(get('domesticMoveIn'), get('moveInFromAbroad'));
  const moveOut = sumKind(get('domesticMoveOut'), get('moveOutAbroad'));
  const entries = sumKind(...FLOW_REASONS.filter((r) => REASONS[r].kind === 'entry').map(get));
  const removals = sumKind(...FLOW_REASONS.filter((r) => REASONS[r].kind === 'removal').map(get));
  return {
    moveIn: { domestic: get('domesticMoveIn'), abroad: get('moveInFromAbroad'), total: moveIn },
    moveOut: { domestic: get('domesticMoveOut'), abroad: get('moveOutAbroad'), total: moveOut },
    birth: get('birth'),
    death: get('death'),
    exOfficioEntry: get('exOfficioEntry'),
    exOfficioRemoval: get('exOfficioRemoval'),
    byReason: FLOW_REASONS.map((reason) => ({ reason, label: REASONS[reason].label, counts: get(reason) })),
    entries,
    removals,
    naturalChange: diffKind(get('birth'), get('death')),
    socialChange: diffKind(sumKind(moveIn, get('exOfficioEntry')), sumKind(moveOut, get('exOfficioRemoval'))),
  };
}

/** A readable table for the CLI (Japanese headings, as clerks read them). */
export function formatStatistics(s: AnnualStatistics): string {
  const pad = (v: string | number, w: number) => String(v).padStart(w);
  const k = (c: KindCounts) => `${pad(c.total, 10)}${pad(c.japanese, 10)}${pad(c.foreign, 9)}`;
  const lines: string[] = [];
  lines.push(
    `住民基本台帳関係年報 団体 ${s.lgCode}  基準日 ${s.period.asOf}  異動期間 ${s.period.from} ～ ${s.period.to}`,
  );
  lines.push('');
  lines.push(`人口                       ${pad('計', 9)}${pad('日本人', 7)}${pad('外国人', 6)}`);
  lines.push(`  総数                   ${k(s.population.total.total)}`);
  lines.push(`  男                     ${k(s.population.total.male)}`);
  lines.push(`  女                     ${k(s.population.total.female)}`);
  lines.push('年齢（5歳階級）   男 / 女 / 計');
  for (const b of s.population.byAgeBand) {
    if (b.total.total === 0 && b.band === 'unknown') continue;
    lines.push(
      `  ${b.band.padEnd(8)}${pad(b.male.total, 10)}${pad(b.female.total, 10)}${pad(b.total.total, 10)}`,
    );
  }
  lines.push('年齢（3区分）     計 / 日本人 / 外国人');
  for (const g of s.population.byAgeGroup) {
    if (g.total.total === 0 && g.group === 'unknown') continue;
    lines.push(`  ${g.group.padEnd(8)}${k(g.total)}`);
  }
  const h = s.households;
  lines.push(
    `世帯  計 ${h.total}  日本人のみ ${h.japaneseOnly}  外国人のみ ${h.foreignOnly}  複数国籍 ${h.mixed}`,
  );
  lines.push('地域別                     人口(計/日本人/外国人)          世帯');
  for (const a of s.byArea) {
    const name = a.town === undefined ? a.ward || '（区なし）' : `  ${a.town}`;
    lines.push(`  ${name.padEnd(14, '　')}${k(a.population.total)}${pad(a.households.total, 10)}`);
  }
  lines.push('');
  lines.push(`異動（${s.period.from} ～ ${s.period.to}）  計 / 日本人 / 外国人`);
  for (const f of s.flows.byReason) lines.push(`  ${f.label.padEnd(12, '　')}${k(f.counts)}`);
  lines.push(`  記載計${'　'.repeat(9)}${k(s.flows.entries)}`);
  lines.push(`  消除計${'　'.repeat(9)}${k(s.flows.removals)}`);
  lines.push(`  自然増減${'　'.repeat(8)}${k(s.flows.naturalChange)}`);
  lines.push(`  社会増減${'　'.repeat(8)}${k(s.flows.socialChange)}`);
  return lines.join('\n');
}
