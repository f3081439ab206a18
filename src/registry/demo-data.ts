/**
 * Deterministic demo data (デモデータ) for the fictional city 架空市: about 150 households living in its six
 * wards, with a little history, all made through the real ChangeService operations (never by writing tables).
 *
 * Everything comes from a seeded PRNG (mulberry32), so one seed always gives the same people, numbers and
 * relationships. Dates are computed from a fixed anchor day, not from the clock, so the data does not depend
 * on the day it is seeded; only the two planned move-outs still pending are set relative to `today` (they must
 * lie in the service's future).
 *
 * Names come from bundled lists with katakana readings: the npm package ts-gimei draws with Math.random and
 * cannot be seeded. A few names use old character forms (髙橋, 齋藤, 山﨑, 渡邊) and one a non-BMP character
 * (𠮷田) so that search normalisation has something to find. Every My Number and 住民票コード is made with
 * its check digit (myNumberFromBody / residentCodeFromBody); real ones come from J-LIS and the prefecture.
 */
import {
  addDays,
  addMonths,
  addYears,
  ageOn,
  ageReachedOn,
  daysBetween,
  formatJapaneseDate,
  myNumberFromBody,
  parsePlainDate,
  residentCodeFromBody,
  type PlainDate,
} from '../shared/index.js';
import type { MoveInInput, NewPersonInput } from './change.js';
import type { Actor, ChangeResult, ChangeService } from './change.service.js';

export const DEFAULT_DEMO_SEED = 20240401;
export const DEFAULT_DEMO_HOUSEHOLDS = 150;
/** The demo city's name, for the municipality row the caller creates. */
export const DEMO_CITY_NAME = '架空市';

export interface DemoDataOptions {
  seed?: number;
  households?: number;
  /** The service clock's today (`YYYY-MM-DD`), for the planned move-outs that must lie in the future. */
  today: string;
}

export interface DemoDataSummary {
  /** Households created (including those made by splits and moves). */
  households: number;
  /** Persons entered (move-ins and births). */
  residents: number;
  /** Changes recorded. */
  changes: number;
}

/** All historical dates are on or before this day (or today, if the service's clock is earlier). */
const ANCHOR = parsePlainDate('2025-04-01');
const EARLIEST_MOVE_IN = parsePlainDate('1990-01-01');
/** Foreign residents are on the register since the 2012 reform. */
const FOREIGN_REGISTER_START = parsePlainDate('2012-07-09');
/** 旧氏 may be entered on the resident record since 2019-11-05. */
const FORMER_SURNAME_START = parsePlainDate('2019-11-05');
/** A Thursday. */
const EPOCH = parsePlainDate('1970-01-01');

type AddressInput = MoveInInput['address'];
type PreviousAddressInput = MoveInInput['previousAddress'];
type HonsekiInput = NonNullable<NewPersonInput['honseki']>;
type BenefitsInput = NonNullable<NewPersonInput['benefits']>;
type ForeignInput = NonNullable<NewPersonInput['foreign']>;
type ForeignStatusInput = ForeignInput['status'];
type Sex = 'male' | 'female';

// ---------------------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: small, fast, and good enough for demo data. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [value, w] of entries) {
      r -= w;
      if (r < 0) return value;
    }
    const last = entries[entries.length - 1];
    if (!last) throw new Error('weighted pick from an empty list');
    return last[0];
  }

  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }

  letters(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(65 + this.int(0, 25));
    return s;
  }

  /** A day in [from, to]; `to` when the window is empty. */
  date(from: PlainDate, to: PlainDate): PlainDate {
    const span = daysBetween(from, to);
    return span <= 0 ? to : addDays(from, this.int(0, span));
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Names (kanji:reading)

function pairs(s: string): ReadonlyArray<readonly [string, string]> {
  return s
    .trim()
    .split(/\s+/u)
    .map((t) => {
      const [kanji = '', reading = ''] = t.split(':');
      return [kanji, reading] as const;
    });
}

export const SURNAMES = pairs(`
  佐藤:サトウ 鈴木:スズキ 高橋:タカハシ 田中:タナカ 伊藤:イトウ 渡辺:ワタナベ 山本:ヤマモト 中村:ナカムラ
  小林:コバヤシ 加藤:カトウ 吉田:ヨシダ 山田:ヤマダ 佐々木:ササキ 山口:ヤマグチ 松本:マツモト 井上:イノウエ
  木村:キムラ 林:ハヤシ 斎藤:サイトウ 清水:シミズ 山崎:ヤマザキ 森:モリ 池田:イケダ 橋本:ハシモト 阿部:アベ
  石川:イシカワ 山下:ヤマシタ 中島:ナカジマ 石井:イシイ 小川:オガワ 前田:マエダ 岡田:オカダ 長谷川:ハセガワ
  藤田:フジタ 後藤:ゴトウ 近藤:コンドウ 村上:ムラカミ 遠藤:エンドウ 青木:アオキ 坂本:サカモト 斉藤:サイトウ
  福田:フクダ 太田:オオタ 西村:ニシムラ 藤井:フジイ 金子:カネコ 岡本:オカモト 藤原:フジワラ 中野:ナカノ
  三浦:ミウラ 原田:ハラダ 中川:ナカガワ 松田:マツダ 竹内:タケウチ 小野:オノ 田村:タムラ 中山:ナカヤマ
  和田:ワダ 石田:イシダ 森田:モリタ 上田:ウエダ 原:ハラ 内田:ウチダ 柴田:シバタ 酒井:サカイ 宮崎:ミヤザキ
  横山:ヨコヤマ 高木:タカギ 安藤:アンドウ 宮本:ミヤモト 大野:オオノ 小島:コジマ 谷口:タニグチ 今井:イマイ
  工藤:クドウ 高田:タカダ 増田:マスダ 丸山:マルヤマ 杉山:スギヤマ 村田:ムラタ 大塚:オオツカ 小山:コヤマ
  藤本:フジモト 平野:ヒラノ 新井:アライ 河野:コウノ 上野:ウエノ 武田:タケダ 菅原:スガワラ 千葉:チバ
`);

/** Old and variant character forms, each given to one household so that search has something to fold. */
const VARIANT_SURNAMES = pairs(
  '髙橋:タカハシ 齋藤:サイトウ 山﨑:ヤマザキ 渡邊:ワタナベ 𠮷田:ヨシダ 澤田:サワダ',
);

export const GIVEN = {
  male: {
    old: pairs(`
      清:キヨシ 茂:シゲル 勇:イサム 博:ヒロシ 実:ミノル 正:タダシ 進:ススム 勝:マサル 三郎:サブロウ 武:タケシ
      昭:アキラ 正雄:マサオ 一郎:イチロウ 義雄:ヨシオ 稔:ミノル 善治:ゼンジ`),
    mid: pairs(`
      誠:マコト 浩:ヒロシ 健一:ケンイチ 隆:タカシ 哲也:テツヤ 修:オサム 和彦:カズヒコ 直樹:ナオキ 大輔:ダイスケ
      拓也:タクヤ 聡:サトシ 健太:ケンタ 剛:ツヨシ 淳:ジュン 達也:タツヤ 秀樹:ヒデキ`),
    young: pairs(`
      翔太:ショウタ 大翔:ヒロト 蓮:レン 悠真:ユウマ 陽翔:ハルト 湊:ミナト 颯太:ソウタ 樹:イツキ 大和:ヤマト
      悠人:ユウト 陸:リク 海斗:カイト 蒼:アオイ 優斗:ユウト 翼:ツバサ 隼人:ハヤト`),
  },
  female: {
    old: pairs(`
      和子:カズコ 幸子:サチコ 節子:セツコ 久子:ヒサコ 美代子:ミヨコ 文子:フミコ ハル:ハル キヨ:キヨ 千代:チヨ
      静江:シズエ 光子:ミツコ 照子:テルコ 昭子:アキコ トメ:トメ 富美子:フミコ`),
    mid: pairs(`
      恵子:ケイコ 洋子:ヨウコ 裕子:ユウコ 真由美:マユミ 明美:アケミ 由美子:ユミコ 直子:ナオコ 久美子:クミコ
      智子:トモコ 陽子:ヨウコ 香織:カオリ 恵:メグミ 愛:アイ 美穂:ミホ 綾:アヤ 典子:ノリコ`),
    young: pairs(`
      陽葵:ヒマリ 結愛:ユア 凛:リン 芽依:メイ 結衣:ユイ 葵:アオイ 紬:ツムギ 美咲:ミサキ 花:ハナ 彩花:アヤカ
      七海:ナナミ さくら:サクラ 莉子:リコ 杏:アン 美羽:ミウ 心春:コハル`),
  },
} as const;

export function givenPool(sex: Sex, birth: PlainDate): ReadonlyArray<readonly [string, string]> {
  const year = Number(birth.slice(0, 4));
  const pools = GIVEN[sex];
  return year < 1951 ? pools.old : year < 1986 ? pools.mid : pools.young;
}

// ---------------------------------------------------------------------------------------------------------
// Places

const CITY = DEMO_CITY_NAME;
const KANJI_NUMBERS = ['一', '二', '三', '四', '五'] as const;

export const WARDS: ReadonlyArray<{ name: string; towns: readonly string[] }> = [
  { name: '中央区', towns: ['本町', '栄町', '錦町', '大手町'] },
  { name: '北区', towns: ['北山町', '桜台', '緑ケ丘', '泉町'] },
  { name: '南区', towns: ['南浜町', '若葉町', '松原', '旭町'] },
  { name: '東区', towns: ['東雲町', '朝日町', '日の出町', '若松町'] },
  { name: '西区', towns: ['西野町', '柳町', '梅が丘', '富士見町'] },
  { name: '港区', towns: ['港町', '海岸通', '汐見町', '築港'] },
];

export const BUILDING_NAMES = [
  'コーポ栄',
  'メゾン錦',
  'サンハイツ北山',
  'パークハイム桜台',
  'グランシャリオ港',
  'レジデンス大手町',
  'ハイツ若葉',
  'シティタワー架空中央',
  'ヴィラ松原',
  'エステート東雲',
  'フォレスト梅が丘',
  'プラザ日の出',
  'ロイヤルコート富士見',
  'メゾン・ド・汐見',
  'ファミール旭',
  'アーバンヒルズ泉',
] as const;

export const OTHER_PLACES = [
  '東京都新宿区西新宿',
  '東京都練馬区豊玉北',
  '東京都世田谷区太子堂',
  '神奈川県横浜市港北区日吉',
  '埼玉県さいたま市浦和区高砂',
  '千葉県船橋市本町',
  '大阪府大阪市北区天神橋',
  '愛知県名古屋市千種区今池',
  '北海道札幌市北区北七条西',
  '宮城県仙台市青葉区一番町',
  '福岡県福岡市中央区天神',
  '静岡県浜松市中央区砂山町',
  '兵庫県神戸市中央区三宮町',
  '広島県広島市南区松原町',
  '新潟県新潟市中央区万代',
] as const;

export const HONSEKI_ELSEWHERE = [
  '東京都千代田区千代田',
  '大阪府大阪市北区梅田一丁目',
  '京都府京都市上京区今出川町',
  '北海道札幌市中央区北一条西二丁目',
  '宮城県仙台市青葉区国分町一丁目',
  '愛知県名古屋市中区栄三丁目',
  '福岡県福岡市博多区博多駅前二丁目',
  '広島県広島市中区基町',
  '鹿児島県鹿児島市山下町',
  '長野県松本市丸の内',
  '香川県高松市番町一丁目',
  '青森県弘前市下白銀町',
  '沖縄県那覇市泉崎一丁目',
] as const;

export const ABROAD = [
  'アメリカ合衆国 カリフォルニア州ロサンゼルス市',
  'シンガポール共和国',
  'イギリス ロンドン',
  'オーストラリア連邦 シドニー',
  'タイ王国 バンコク',
  'ドイツ連邦共和国 デュッセルドルフ市',
  '中華人民共和国 上海市',
] as const;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export interface Block {
  ward: number;
  town: number;
  chome: number;
  ban: number;
  go: number;
}

export function blockAddress(b: Block, katagaki?: string): AddressInput {
  const ward = WARDS[b.ward];
  const town = ward?.towns[b.town] ?? '';
  const chome = KANJI_NUMBERS[b.chome - 1] ?? '一';
  return {
    code: `${pad(b.ward + 1, 2)}${pad(b.town + 1, 2)}${b.chome}${pad(b.ban, 3)}`,
    postalCode: `${981 + b.ward}-0${b.town + 1}${b.chome}0`,
    text: `${CITY}${ward?.name ?? ''}${town}${chome}丁目${b.ban}番${b.go}号`,
    ...(katagaki ? { katagaki } : {}),
  };
}

interface Building {
  name: string;
  block: Block;
  floors: number;
  roomsPerFloor: number;
}

/** Hands out addresses: houses on distinct lots, flats in distinct rooms of a few buildings. */
class AddressBook {
  private readonly usedLots = new Set<string>();
  private readonly usedRooms = new Set<string>();
  private readonly buildings: Building[];

  constructor(private readonly rng: Rng) {
    this.buildings = BUILDING_NAMES.map((name) => ({
      name,
      block: this.freeBlock(),
      floors: rng.int(2, 14),
      roomsPerFloor: rng.int(3, 8),
    }));
  }

  private randomBlock(): Block {
    const ward = this.rng.int(0, WARDS.length - 1);
    const town = this.rng.int(0, 3);
    const chome = this.rng.int(1, 3 + ((ward + town) % 3));
    return { ward, town, chome, ban: this.rng.int(1, 30), go: this.rng.int(1, 25) };
  }

  private freeBlock(): Block {
    for (;;) {
      const b = this.randomBlock();
      const key = `${b.ward}-${b.town}-${b.chome}-${b.ban}-${b.go}`;
      if (!this.usedLots.has(key)) {
        this.usedLots.add(key);
        return b;
      }
    }
  }

  house(): AddressInput {
    return blockAddress(this.freeBlock());
  }

  flat(): AddressInput {
    for (;;) {
      const b = this.rng.pick(this.buildings);
      const room = `${this.rng.int(1, b.floors)}${pad(this.rng.int(1, b.roomsPerFloor), 2)}号室`;
      const key = `${b.name}${room}`;
      if (!this.usedRooms.has(key)) {
        this.usedRooms.add(key);
        return blockAddress(b.block, key);
      }
    }
  }

  home(flatChance: number): AddressInput {
    return this.rng.chance(flatChance) ? this.flat() : this.house();
  }

  elsewhere(): PreviousAddressInput {
    const rng = this.rng;
    const chome = KANJI_NUMBERS[rng.int(0, 4)] ?? '一';
    return {
      text: `${rng.pick(OTHER_PLACES)}${chome}丁目${rng.int(1, 30)}番${rng.int(1, 25)}号`,
      abroad: false,
    };
  }

  abroad(): PreviousAddressInput {
    return { text: this.rng.pick(ABROAD), abroad: true };
  }

  honsekiPlace(): string {
    const rng = this.rng;
    if (rng.chance(0.45)) {
      const ward = rng.pick(WARDS);
      const chome = KANJI_NUMBERS[rng.int(0, 2)] ?? '一';
      return `${CITY}${ward.name}${rng.pick(ward.towns)}${chome}丁目${rng.int(1, 30)}番地`;
    }
    return `${rng.pick(HONSEKI_ELSEWHERE)}${rng.int(1, 1500)}番地`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Numbers

class Numbers {
  private readonly myNumbers = new Set<string>();
  private readonly residentCodes = new Set<string>();
  private readonly cards = new Set<string>();

  constructor(private readonly rng: Rng) {}

  myNumber(): string {
    for (;;) {
      const n = myNumberFromBody(String(this.rng.int(1, 9)) + this.rng.digits(10));
      if (!this.myNumbers.has(n)) {
        this.myNumbers.add(n);
        return n;
      }
    }
  }

  residentCode(): string {
    for (;;) {
      const n = residentCodeFromBody(String(this.rng.int(1, 9)) + this.rng.digits(9));
      if (!this.residentCodes.has(n)) {
        this.residentCodes.add(n);
        return n;
      }
    }
  }

  residenceCard(): string {
    for (;;) {
      const n = `${this.rng.letters(2)}${this.rng.digits(8)}${this.rng.letters(2)}`;
      if (!this.cards.has(n)) {
        this.cards.add(n);
        return n;
      }
    }
  }

  pensionNo(): string {
    return String(this.rng.int(1, 9)) + this.rng.digits(9);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The plan: households and their members, before anything is written

interface Member {
  kind: 'japanese' | 'foreign';
  family: string;
  given: string;
  familyReading: string;
  givenReading: string;
  sex: Sex;
  birth: PlainDate;
  relationship: string;
  honseki?: HonsekiInput;
  foreign?: ForeignInput;
  benefits: BenefitsInput;
  readingStatus: 'certified' | 'notCertified';
  myNumber: string;
  residentCode: string;
  /** Set once the person is entered. */
  personNo?: string;
}

type HouseholdType = 'single' | 'couple' | 'coupleKids' | 'singleParent' | 'threeGen' | 'other' | 'foreign';

interface Household {
  type: HouseholdType;
  /** For couples: elderly or young. For foreign households: which one. */
  variant: string;
  members: Member[];
  address: AddressInput;
  movedInOn: PlainDate;
  notifiedOn: PlainDate;
  origin: 'domestic' | 'abroad';
  previousAddress: PreviousAddressInput;
  /** Members insured by national health insurance (self-employed, retired). */
  nhi: boolean;
  householdNo?: string;
  /** Already given an event in the history phase. */
  used: boolean;
}

const JAPANESE_QUOTAS: ReadonlyArray<readonly [HouseholdType, number]> = [
  ['single', 0.35],
  ['couple', 0.19],
  ['coupleKids', 0.25],
  ['singleParent', 0.1],
  ['threeGen', 0.07],
  ['other', 0.04],
];

const FOREIGN_HOUSEHOLDS = 9;

const later = (a: PlainDate, b: PlainDate): PlainDate => (a > b ? a : b);
const earlier = (a: PlainDate, b: PlainDate): PlainDate => (a < b ? a : b);

/** Moves a Saturday or Sunday to a weekday (the office is closed), not past `limit`. */
function weekday(d: PlainDate, limit: PlainDate): PlainDate {
  const dow = (((daysBetween(EPOCH, d) + 4) % 7) + 7) % 7;
  const forward = dow === 6 ? 2 : dow === 0 ? 1 : 0;
  const backward = dow === 6 ? -1 : dow === 0 ? -2 : 0;
  const moved = addDays(d, forward);
  return moved <= limit ? moved : addDays(d, backward);
}

class Planner {
  readonly addresses: AddressBook;
  readonly numbers: Numbers;
  private variantIndex = 0;
  /** Elderly singles made so far with a birth in the Taisho era (before 1926-12-25). */
  private taishoBorn = 0;

  constructor(
    readonly rng: Rng,
    readonly anchor: PlainDate,
  ) {
    this.addresses = new AddressBook(rng);
    this.numbers = new Numbers(rng);
  }

  /** A birth date giving `age` completed years on the anchor day. */
  birthForAge(age: number): PlainDate {
    return addDays(addYears(this.anchor, -age - 1), this.rng.int(1, 365));
  }

  /** A birth date some years (plus days) after another. */
  bornAfter(parent: PlainDate, years: number): PlainDate {
    return addDays(addYears(parent, years), this.rng.int(0, 364));
  }

  surname(): readonly [string, string] {
    return this.rng.pick(SURNAMES);
  }

  /** The next household gets an old/variant form while any is left, at random intervals. */
  surnameMaybeVariant(): readonly [string, string] {
    if (this.variantIndex < VARIANT_SURNAMES.length && this.rng.chance(0.08)) {
      const v = VARIANT_SURNAMES[this.variantIndex++];
      if (v) return v;
    }
    return this.surname();
  }

  givenName(sex: Sex, birth: PlainDate, avoid: readonly Member[] = []): readonly [string, string] {
    const pool = givenPool(sex, birth);
    for (let i = 0; i < 10; i++) {
      const g = this.rng.pick(pool);
      if (!avoid.some((m) => m.given === g[0])) return g;
    }
    return this.rng.pick(pool);
  }

  register(family: string, given: string): HonsekiInput {
    return {
      kind: 'registered',
      address: this.addresses.honsekiPlace(),
      familyRegisterHead: `${family}　${given}`,
    };
  }

  /** A Japanese person; the given name suits the birth year and is not one of `household`'s. */
  japanese(
    surname: readonly [string, string],
    sex: Sex,
    birth: PlainDate,
    relationship: string,
    honseki: HonsekiInput | undefined,
    household: readonly Member[] = [],
  ): Member {
    const [given, givenReading] = this.givenName(sex, birth, household);
    return {
      kind: 'japanese',
      family: surname[0],
      familyReading: surname[1],
      given,
      givenReading,
      sex,
      birth,
      relationship,
      ...(honseki ? { honseki } : {}),
      benefits: {},
      readingStatus: this.rng.chance(0.86) ? 'certified' : 'notCertified',
      myNumber: this.numbers.myNumber(),
      residentCode: this.numbers.residentCode(),
    };
  }

  /** The register of someone's parents (筆頭者 = the father), for the unmarried. */
  parentsRegister(surname: readonly [string, string], birth: PlainDate): HonsekiInput {
    const fatherBirth = addYears(birth, -this.rng.int(25, 38));
    return this.register(surname[0], this.givenName('male', fatherBirth)[0]);
  }

  // --- household types ---------------------------------------------------------------------------------

  single(): Household {
    const rng = this.rng;
    const band = rng.weighted<'young' | 'middle' | 'elderly'>([
      ['young', 0.38],
      ['middle', 0.26],
      ['elderly', 0.36],
    ]);
    const oldest = band === 'elderly' && this.taishoBorn++ < 2;
    const age =
      band === 'young'
        ? rng.int(19, 34)
        : band === 'middle'
          ? rng.int(35, 64)
          : oldest
            ? rng.int(99, 101)
            : rng.int(65, 97);
    const sex: Sex = rng.chance(band === 'elderly' ? 0.68 : 0.5) ? 'female' : 'male';
    const surname = this.surnameMaybeVariant();
    const birth = this.birthForAge(age);
    const m = this.japanese(surname, sex, birth, '世帯主', undefined);
    if (band === 'young') m.honseki = this.parentsRegister(surname, birth);
    else if (sex === 'female' && band === 'elderly') {
      // A widow: still in her late husband's register.
      m.honseki = this.register(surname[0], this.givenName('male', addYears(birth, -rng.int(0, 5)))[0]);
    } else m.honseki = this.register(m.family, m.given);
    const flatChance = band === 'young' ? 0.8 : band === 'middle' ? 0.45 : 0.2;
    return this.household(
      'single',
      band,
      [m],
      this.addresses.home(flatChance),
      band === 'elderly' || rng.chance(0.3),
    );
  }

  couple(): Household {
    const rng = this.rng;
    const young = rng.chance(0.3);
    const headAge = young ? rng.int(24, 39) : rng.int(55, 90);
    const spouseAge = Math.max(20, headAge + rng.int(-5, 2));
    const headMale = rng.chance(0.92);
    const surname = this.surnameMaybeVariant();
    const headBirth = this.birthForAge(headAge);
    const spouseBirth = this.birthForAge(spouseAge);
    const unmarried = young && rng.chance(0.15);
    const headSex: Sex = headMale ? 'male' : 'female';
    const spouseSex: Sex = headMale ? 'female' : 'male';
    const head = this.japanese(surname, headSex, headBirth, '世帯主', undefined);
    let spouse: Member;
    if (unmarried) {
      const own = this.surname();
      spouse = this.japanese(
        own,
        spouseSex,
        spouseBirth,
        headMale ? '妻(未届)' : '夫(未届)',
        this.parentsRegister(own, spouseBirth),
        [head],
      );
      head.honseki = this.parentsRegister(surname, headBirth);
    } else {
      spouse = this.japanese(surname, spouseSex, spouseBirth, headMale ? '妻' : '夫', undefined, [head]);
      const husband = headMale ? head : spouse;
      const reg = this.register(husband.family, husband.given);
      head.honseki = reg;
      spouse.honseki = reg;
    }
    return this.household(
      'couple',
      young ? 'young' : 'elderly',
      [head, spouse],
      this.addresses.home(young ? 0.7 : 0.25),
      !young && headAge >= 60,
    );
  }

  coupleKids(): Household {
    const rng = this.rng;
    const headAge = rng.int(29, 58);
    const spouseAge = Math.max(24, headAge + rng.int(-5, 2));
    const headMale = rng.chance(0.95);
    const surname = this.surnameMaybeVariant();
    const head = this.japanese(
      surname,
      headMale ? 'male' : 'female',
      this.birthForAge(headAge),
      '世帯主',
      undefined,
    );
    const spouse = this.japanese(
      surname,
      headMale ? 'female' : 'male',
      this.birthForAge(spouseAge),
      headMale ? '妻' : '夫',
      undefined,
      [head],
    );
    const husband = headMale ? head : spouse;
    const mother = headMale ? spouse : head;
    const reg = this.register(husband.family, husband.given);
    head.honseki = reg;
    spouse.honseki = reg;
    const members = [head, spouse];
    const kids = rng.weighted([
      [1, 0.3],
      [2, 0.5],
      [3, 0.2],
    ] as const);
    this.addChildren(members, surname, mother.birth, kids, '子', reg, 24, 36);
    return this.household('coupleKids', '', members, this.addresses.home(0.4), rng.chance(0.25));
  }

  singleParent(): Household {
    const rng = this.rng;
    const sex: Sex = rng.chance(0.85) ? 'female' : 'male';
    const surname = this.surnameMaybeVariant();
    const parent = this.japanese(surname, sex, this.birthForAge(rng.int(28, 55)), '世帯主', undefined);
    parent.honseki = this.register(parent.family, parent.given);
    const members = [parent];
    const kids = rng.weighted([
      [1, 0.6],
      [2, 0.4],
    ] as const);
    this.addChildren(members, surname, parent.birth, kids, '子', parent.honseki, 22, 36);
    return this.household('singleParent', '', members, this.addresses.home(0.6), rng.chance(0.5));
  }

  threeGen(): Household {
    const rng = this.rng;
    const surname = this.surnameMaybeVariant();
    const sonAge = rng.int(25, 36);
    const wifeAge = sonAge + rng.int(23, 32);
    const headAge = wifeAge + rng.int(0, 4);
    const head = this.japanese(surname, 'male', this.birthForAge(headAge), '世帯主', undefined);
    const wife = this.japanese(surname, 'female', this.birthForAge(wifeAge), '妻', undefined, [head]);
    const reg = this.register(head.family, head.given);
    head.honseki = reg;
    wife.honseki = reg;
    const members = [head, wife];
    // The head's parents: at least the mother.
    const withFather = rng.chance(0.35);
    const elderReg = withFather ? undefined : this.parentsRegister(surname, head.birth);
    let father: Member | undefined;
    if (withFather) {
      father = this.japanese(
        surname,
        'male',
        this.birthForAge(Math.min(99, headAge + rng.int(25, 33))),
        '父',
        undefined,
        members,
      );
      father.honseki = this.register(father.family, father.given);
      members.push(father);
    }
    const motherAge = Math.min(98, Math.max(76, headAge + rng.int(22, 30)));
    const motherHonseki = father?.honseki ?? elderReg;
    members.push(this.japanese(surname, 'female', this.birthForAge(motherAge), '母', motherHonseki, members));
    const son = this.japanese(surname, 'male', this.birthForAge(sonAge), '子', undefined, members);
    const sonReg = this.register(son.family, son.given);
    son.honseki = sonReg;
    const daughterInLaw = this.japanese(
      surname,
      'female',
      this.birthForAge(Math.max(22, sonAge + rng.int(-4, 2))),
      '子の妻',
      sonReg,
      [...members, son],
    );
    members.push(son, daughterInLaw);
    const grandchildren = rng.weighted([
      [0, 0.15],
      [1, 0.45],
      [2, 0.4],
    ] as const);
    this.addChildren(members, surname, daughterInLaw.birth, grandchildren, '子の子', sonReg, 23, 33);
    return this.household('threeGen', '', members, this.addresses.house(), rng.chance(0.4));
  }

  other(n: number): Household {
    const rng = this.rng;
    const surname = this.surnameMaybeVariant();
    const kind = n % 3;
    if (kind === 0) {
      // Two siblings.
      const headAge = rng.int(30, 52);
      const head = this.japanese(
        surname,
        rng.chance(0.5) ? 'male' : 'female',
        this.birthForAge(headAge),
        '世帯主',
        undefined,
      );
      head.honseki = this.parentsRegister(surname, head.birth);
      const older = rng.chance(0.4);
      const sex: Sex = rng.chance(0.5) ? 'male' : 'female';
      const sibAge = older ? headAge + rng.int(1, 6) : Math.max(20, headAge - rng.int(1, 8));
      const relationship = older ? (sex === 'male' ? '兄' : '姉') : sex === 'male' ? '弟' : '妹';
      const sibling = this.japanese(surname, sex, this.birthForAge(sibAge), relationship, head.honseki, [
        head,
      ]);
      return this.household('other', 'siblings', [head, sibling], this.addresses.home(0.5), false);
    }
    if (kind === 1) {
      // Flat-sharers: a lodger (同居人).
      const head = this.japanese(surname, 'female', this.birthForAge(rng.int(22, 35)), '世帯主', undefined);
      head.honseki = this.parentsRegister(surname, head.birth);
      const own = this.surname();
      const birth = this.birthForAge(rng.int(22, 35));
      const lodger = this.japanese(own, 'female', birth, '同居人', this.parentsRegister(own, birth), [head]);
      return this.household('other', 'lodger', [head, lodger], this.addresses.flat(), false);
    }
    // An elderly head living with a distant relative (縁故者).
    const head = this.japanese(surname, 'female', this.birthForAge(rng.int(72, 88)), '世帯主', undefined);
    head.honseki = this.register(surname[0], this.givenName('male', head.birth)[0]);
    const own = this.surname();
    const birth = this.birthForAge(rng.int(40, 60));
    const relative = this.japanese(own, rng.chance(0.5) ? 'male' : 'female', birth, '縁故者', undefined, [
      head,
    ]);
    relative.honseki = this.register(relative.family, relative.given);
    return this.household('other', 'relative', [head, relative], this.addresses.house(), true);
  }

  private addChildren(
    members: Member[],
    surname: readonly [string, string],
    motherBirth: PlainDate,
    count: number,
    relationship: string,
    honseki: HonsekiInput,
    minAge: number,
    maxAge: number,
  ): void {
    const latest = addDays(this.anchor, -60);
    let birth = this.bornAfter(motherBirth, this.rng.int(minAge, maxAge));
    for (let i = 0; i < count; i++) {
      if (birth > latest) {
        if (i > 0) break;
        birth = addDays(this.anchor, -this.rng.int(60, 700));
      }
      const sex: Sex = this.rng.chance(0.51) ? 'male' : 'female';
      members.push(this.japanese(surname, sex, birth, relationship, honseki, members));
      birth = addDays(birth, this.rng.int(400, 1800));
    }
  }

  // --- foreign residents ---------------------------------------------------------------------------------

  private foreigner(p: {
    latin: string;
    kanji?: readonly [string, string];
    reading: readonly [string, string];
    sex: Sex;
    birth: PlainDate;
    relationship: string;
    nationality: string;
    status: ForeignStatusInput;
  }): Member {
    return {
      kind: 'foreign',
      family: p.kanji?.[0] ?? '',
      given: p.kanji?.[1] ?? '',
      familyReading: p.reading[0],
      givenReading: p.reading[1],
      sex: p.sex,
      birth: p.birth,
      relationship: p.relationship,
      foreign: {
        latinName: p.latin,
        nationality: p.nationality,
        // Set once the move-in date is known.
        foreignResidentSince: FOREIGN_REGISTER_START,
        status: p.status,
      },
      benefits: {},
      readingStatus: this.rng.chance(0.8) ? 'certified' : 'notCertified',
      myNumber: this.numbers.myNumber(),
      residentCode: this.numbers.residentCode(),
    };
  }

  private midLong(residenceStatus: string, periodOfStay: string, months: number): ForeignStatusInput {
    return {
      category: 'midLongTerm',
      residenceStatus,
      periodOfStay,
      expiryDate: addDays(addMonths(this.anchor, this.rng.int(2, months)), this.rng.int(0, 27)),
      residenceCardNo: this.numbers.residenceCard(),
    };
  }

  foreign(k: number): Household {
    const rng = this.rng;
    const b = (age: number) => this.birthForAge(age);
    const solo = (variant: string, m: Member, flat: boolean, from: string | undefined, nhi: boolean) =>
      this.household(
        'foreign',
        variant,
        [m],
        flat ? this.addresses.flat() : this.addresses.house(),
        nhi,
        from,
      );
    switch (k % FOREIGN_HOUSEHOLDS) {
      case 0:
        return solo(
          'china',
          this.foreigner({
            latin: 'WANG XIAOMING',
            kanji: ['王', '小明'],
            reading: ['ワン', 'シャオミン'],
            sex: 'male',
            birth: b(rng.int(28, 36)),
            relationship: '世帯主',
            nationality: '中国',
            status: this.midLong('技術・人文知識・国際業務', '5年', 50),
          }),
          true,
          undefined,
          false,
        );
      case 1: {
        // A couple of special permanent residents; the husband registers a 通称 later.
        const husband = this.foreigner({
          latin: 'KIM YOUNGSOO',
          kanji: ['金', '英洙'],
          reading: ['キム', 'ヨンス'],
          sex: 'male',
          birth: b(rng.int(70, 78)),
          relationship: '世帯主',
          nationality: '韓国',
          status: { category: 'specialPermanent', certificateNo: this.numbers.residenceCard() },
        });
        const wife = this.foreigner({
          latin: 'LEE SOONJA',
          kanji: ['李', '順子'],
          reading: ['イ', 'スンジャ'],
          sex: 'female',
          birth: b(rng.int(66, 74)),
          relationship: '妻',
          nationality: '韓国',
          status: { category: 'specialPermanent', certificateNo: this.numbers.residenceCard() },
        });
        return this.household('foreign', 'korea', [husband, wife], this.addresses.house(), true);
      }
      case 2:
        return solo(
          'vietnamTrainee',
          this.foreigner({
            latin: 'NGUYEN VAN AN',
            reading: ['グエン', 'ヴァン アン'],
            sex: 'male',
            birth: b(rng.int(21, 27)),
            relationship: '世帯主',
            nationality: 'ベトナム',
            status: this.midLong('技能実習', '1年', 12),
          }),
          true,
          'ベトナム社会主義共和国 ハノイ市',
          false,
        );
      case 3: {
        const status = () => this.midLong('定住者', '3年', 36);
        const head = this.foreigner({
          latin: 'SILVA CARLOS EDUARDO',
          reading: ['シルバ', 'カルロス エドゥアルド'],
          sex: 'male',
          birth: b(rng.int(40, 47)),
          relationship: '世帯主',
          nationality: 'ブラジル',
          status: status(),
        });
        const wife = this.foreigner({
          latin: 'SILVA ANA PAULA',
          reading: ['シルバ', 'アナ パウラ'],
          sex: 'female',
          birth: b(rng.int(37, 44)),
          relationship: '妻',
          nationality: 'ブラジル',
          status: status(),
        });
        const child = this.foreigner({
          latin: 'SILVA LUCAS',
          reading: ['シルバ', 'ルーカス'],
          sex: 'male',
          birth: b(rng.int(8, 13)),
          relationship: '子',
          nationality: 'ブラジル',
          status: status(),
        });
        const h = this.household('foreign', 'brazil', [head, wife, child], this.addresses.flat(), true);
        h.previousAddress = {
          text: `静岡県浜松市中央区砂山町${rng.int(1, 30)}番${rng.int(1, 20)}号`,
          abroad: false,
        };
        return h;
      }
      case 4: {
        // A Japanese husband, his Filipino wife and their (Japanese) child.
        const surname = this.surname();
        const head = this.japanese(surname, 'male', b(rng.int(42, 52)), '世帯主', undefined);
        head.honseki = this.register(head.family, head.given);
        const wife = this.foreigner({
          latin: 'SANTOS MARIA CRISTINA',
          reading: ['サントス', 'マリア クリスティナ'],
          sex: 'female',
          birth: b(rng.int(35, 42)),
          relationship: '妻',
          nationality: 'フィリピン',
          status: this.midLong('日本人の配偶者等', '3年', 36),
        });
        const members = [head, wife];
        this.addChildren(members, surname, wife.birth, 1, '子', head.honseki, 26, 30);
        return this.household('foreign', 'mixed', members, this.addresses.house(), false);
      }
      case 5:
        return solo(
          'vietnamStudent',
          this.foreigner({
            latin: 'TRAN THI HOA',
            reading: ['チャン', 'ティ ホア'],
            sex: 'female',
            birth: b(rng.int(20, 24)),
            relationship: '世帯主',
            nationality: 'ベトナム',
            status: this.midLong('留学', '1年3月', 15),
          }),
          true,
          'ベトナム社会主義共和国 ホーチミン市',
          true,
        );
      case 6:
        return solo(
          'nepal',
          this.foreigner({
            latin: 'GURUNG RAM BAHADUR',
            reading: ['グルン', 'ラム バハドゥル'],
            sex: 'male',
            birth: b(rng.int(30, 38)),
            relationship: '世帯主',
            nationality: 'ネパール',
            status: this.midLong('技能', '1年', 12),
          }),
          true,
          undefined,
          true,
        );
      case 7:
        return solo(
          'usa',
          this.foreigner({
            latin: 'SMITH JOHN MICHAEL',
            reading: ['スミス', 'ジョン マイケル'],
            sex: 'male',
            birth: b(rng.int(29, 40)),
            relationship: '世帯主',
            nationality: 'アメリカ',
            status: this.midLong('教育', '1年', 12),
          }),
          true,
          'アメリカ合衆国 オレゴン州ポートランド市',
          true,
        );
      default:
        return solo(
          'chinaPermanent',
          this.foreigner({
            latin: 'LI NA',
            kanji: ['李', '娜'],
            reading: ['リ', 'ナ'],
            sex: 'female',
            birth: b(rng.int(40, 50)),
            relationship: '世帯主',
            nationality: '中国',
            status: this.midLong('永住者', '無期限', 80),
          }),
          false,
          undefined,
          true,
        );
    }
  }

  // --- move-in date, benefits ----------------------------------------------------------------------------

  private household(
    type: HouseholdType,
    variant: string,
    members: Member[],
    address: AddressInput,
    nhi: boolean,
    /** Where a foreign household came from abroad. */
    abroadFrom?: string,
  ): Household {
    const rng = this.rng;
    const head = members[0];
    if (!head) throw new Error('a household needs a member');
    const youngest = members.reduce((d, m) => later(d, m.birth), head.birth);
    let from = later(later(EARLIEST_MOVE_IN, addDays(youngest, 1)), ageReachedOn(head.birth, 18));
    if (members.some((m) => m.kind === 'foreign')) {
      from = later(from, FOREIGN_REGISTER_START);
      // Trainees and students are here for a short time.
      if (variant === 'vietnamTrainee' || variant === 'vietnamStudent' || variant === 'usa') {
        from = later(from, addYears(this.anchor, -2));
      }
    }
    if (type === 'single' && variant === 'young') from = later(from, addYears(this.anchor, -8));
    let to = addDays(this.anchor, -30);
    if (from > to) to = addDays(this.anchor, -1);
    const movedInOn = rng.date(earlier(from, to), to);
    const notifiedOn = weekday(earlier(addDays(movedInOn, rng.int(0, 13)), this.anchor), this.anchor);
    const fromAbroad = abroadFrom !== undefined || (type !== 'foreign' && rng.chance(0.05));
    const h: Household = {
      type,
      variant,
      members,
      address,
      movedInOn,
      notifiedOn,
      origin: fromAbroad ? 'abroad' : 'domestic',
      previousAddress: abroadFrom
        ? { text: abroadFrom, abroad: true }
        : fromAbroad
          ? this.addresses.abroad()
          : this.addresses.elsewhere(),
      nhi,
      used: false,
    };
    // 外国人住民となった年月日: the arrival from abroad, or (for those already living in Japan) a day since the
    // 2012 reform; special permanent residents have been on the register since the reform began.
    const foreignSince =
      h.origin === 'abroad'
        ? movedInOn
        : later(FOREIGN_REGISTER_START, addDays(movedInOn, -rng.int(30, 2000)));
    for (const m of members) {
      if (m.foreign) {
        m.foreign.foreignResidentSince =
          m.foreign.status.category === 'specialPermanent' ? FOREIGN_REGISTER_START : foreignSince;
      }
      this.setBenefits(h, m);
    }
    return h;
  }

  private setBenefits(h: Household, m: Member): void {
    const since = h.movedInOn;
    const age = ageOn(m.birth, this.anchor);
    const atLeast = (years: number) => later(ageReachedOn(m.birth, years), since);
    const b: BenefitsInput = {};
    if (!m.foreign && age >= 18) {
      const registeredOn = later(addMonths(since, 3), ageReachedOn(m.birth, 18));
      b.electoralRoll =
        registeredOn <= this.anchor ? { registered: true, registeredOn } : { registered: false };
    }
    if (age >= 75) b.lateStageElderlyCare = { insured: true, acquiredOn: atLeast(75) };
    else if (h.nhi || age >= 65)
      b.nationalHealthInsurance = { insured: true, acquiredOn: age >= 65 ? atLeast(60) : since };
    if (age >= 65) b.longTermCare = { insured: true, acquiredOn: atLeast(65) };
    if (age >= 20 && age < 60) {
      const spouse = m.relationship === '妻' || m.relationship === '夫' || m.relationship === '子の妻';
      if (h.nhi) {
        b.nationalPension = {
          type: 'category1',
          basicPensionNo: this.numbers.pensionNo(),
          acquiredOn: atLeast(20),
        };
      } else if (spouse && this.rng.chance(0.5)) {
        b.nationalPension = {
          type: 'category3',
          basicPensionNo: this.numbers.pensionNo(),
          acquiredOn: atLeast(20),
        };
      }
    }
    // 児童手当 goes to the parent who heads the children's family.
    const childRel = m.relationship === '世帯主' ? '子' : m.relationship === '子' ? '子の子' : undefined;
    const eligible = h.members.filter((c) => c.relationship === childRel && ageOn(c.birth, this.anchor) < 18);
    if (eligible.length > 0 && (m.relationship === '世帯主' || h.type === 'threeGen')) {
      const firstBirth = eligible.reduce((d, c) => earlier(d, c.birth), this.anchor);
      b.childAllowance = { receiving: true, startedOn: later(addDays(firstBirth, 1), since) };
    }
    m.benefits = b;
  }
}

function planHouseholds(planner: Planner, count: number): Household[] {
  const rng = planner.rng;
  const foreignCount = Math.min(FOREIGN_HOUSEHOLDS, Math.floor(count / 16));
  const japanese = count - foreignCount;
  const types: Array<{ type: HouseholdType; n: number }> = [];
  let assigned = 0;
  for (const [type, share] of JAPANESE_QUOTAS) {
    const n = type === 'single' ? 0 : Math.round(japanese * share);
    assigned += n;
    types.push({ type, n });
  }
  const slots: Array<{ type: HouseholdType; n: number }> = [];
  for (const t of types) for (let i = 0; i < t.n; i++) slots.push({ type: t.type, n: i });
  for (let i = 0; i < japanese - assigned; i++) slots.push({ type: 'single', n: i });
  for (let i = 0; i < foreignCount; i++) slots.push({ type: 'foreign', n: i });
  rng.shuffle(slots);
  return slots.map((s) => {
    switch (s.type) {
      case 'single':
        return planner.single();
      case 'couple':
        return planner.couple();
      case 'coupleKids':
        return planner.coupleKids();
      case 'singleParent':
        return planner.singleParent();
      case 'threeGen':
        return planner.threeGen();
      case 'other':
        return planner.other(s.n);
      case 'foreign':
        return planner.foreign(s.n);
    }
  });
}

function personInput(m: Member): NewPersonInput {
  return {
    kind: m.kind,
    ...(m.family ? { name: { family: m.family, given: m.given } } : {}),
    reading: { family: m.familyReading, given: m.givenReading, status: m.readingStatus },
    birthDate: m.birth,
    sex: m.sex,
    relationship: m.relationship,
    ...(m.honseki ? { honseki: m.honseki } : {}),
    myNumber: m.myNumber,
    residentCode: m.residentCode,
    benefits: m.benefits,
    ...(m.foreign ? { foreign: m.foreign } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Seeding

interface TimelineEvent {
  date: PlainDate;
  order: number;
  run: () => Promise<void>;
}

/**
 * Seeds the demo city: about `households` households moving in (1990 … last month), then a little history
 * (births, moves within the city, splits, a change of head, deaths, move-outs, a 旧氏, a 通称, a My Number
 * change, corrections and one cancelled correction). The municipality row for `actor.lgCode` must exist.
 * The same seed and today give the same data.
 */
export async function seedDemoData(
  service: ChangeService,
  actor: Actor,
  options: DemoDataOptions,
): Promise<DemoDataSummary> {
  const rng = new Rng(options.seed ?? DEFAULT_DEMO_SEED);
  const today = parsePlainDate(options.today);
  const anchor = earlier(ANCHOR, today);
  const planner = new Planner(rng, anchor);
  const households = planHouseholds(
    planner,
    Math.max(1, Math.floor(options.households ?? DEFAULT_DEMO_HOUSEHOLDS)),
  );

  const results: ChangeResult[] = [];
  const record = (r: ChangeResult) => {
    results.push(r);
    return r;
  };

  // 1. Move-ins, oldest first, so that person and household numbers follow the order of arrival.
  const byArrival = households
    .map((h, i) => ({ h, i }))
    .sort((a, b) => (a.h.movedInOn < b.h.movedInOn ? -1 : a.h.movedInOn > b.h.movedInOn ? 1 : a.i - b.i))
    .map(({ h }) => h);
  for (const h of byArrival) {
    const r = record(
      await service.moveIn(actor, {
        effectiveDate: h.movedInOn,
        notifiedOn: h.notifiedOn,
        origin: h.origin,
        address: h.address,
        previousAddress: h.previousAddress,
        household: { mode: 'new' },
        members: h.members.map(personInput),
      }),
    );
    h.householdNo = r.householdNos[0];
    h.members.forEach((m, i) => {
      m.personNo = r.persons[i]?.personNo;
    });
  }

  // 2. History, in date order.
  const events: TimelineEvent[] = [];
  const at = (date: PlainDate, run: () => Promise<ChangeResult>, then?: (r: ChangeResult) => void) => {
    events.push({
      date,
      order: events.length,
      run: async () => {
        const r = record(await run());
        then?.(r);
      },
    });
  };
  const no = (m: Member | undefined): string => {
    if (!m?.personNo) throw new Error('demo data: a member was not entered');
    return m.personNo;
  };
  const hno = (h: Household): string => {
    if (!h.householdNo) throw new Error('demo data: a household was not entered');
    return h.householdNo;
  };
  const last = addDays(anchor, -3);
  /** An unused household matching `when`, with a non-empty date window starting `minDays` after move-in. */
  const take = (when: (h: Household) => boolean, minDays = 60): Household | undefined => {
    const candidates = households.filter(
      (h) => !h.used && when(h) && addDays(h.movedInOn, minDays) <= addDays(last, -1),
    );
    if (candidates.length === 0) return undefined;
    const h = rng.pick(candidates);
    h.used = true;
    return h;
  };
  const dateAfter = (from: PlainDate, to: PlainDate = last) => rng.date(earlier(from, to), to);
  const notified = (d: PlainDate) => weekday(earlier(addDays(d, rng.int(0, 13)), anchor), anchor);
  const age = (m: Member) => ageOn(m.birth, anchor);
  const rel = (h: Household, r: string) => h.members.filter((m) => m.relationship === r);
  const japaneseHousehold = (h: Household) => h.type !== 'foreign';
  const scale = Math.max(1, Math.round(households.length / 150));
  // Reserved for the 通称 entry below.
  const korean = take((x) => x.type === 'foreign' && x.variant === 'korea', 7);

  // Births.
  for (let i = 0; i < 8 * scale; i++) {
    const h = take(
      (x) =>
        (x.type === 'coupleKids' || (x.type === 'couple' && x.variant === 'young')) &&
        x.members[0]?.sex === 'male' &&
        rel(x, '妻').some((w) => age(w) >= 25 && age(w) <= 40) &&
        rel(x, '子').every((c) => c.birth < addYears(anchor, -2)),
      120,
    );
    if (!h) break;
    const head = h.members[0];
    const youngest = rel(h, '子').reduce((d, c) => later(d, addDays(c.birth, 400)), addDays(h.movedInOn, 90));
    const birth = dateAfter(later(youngest, addYears(anchor, -5)), addDays(anchor, -10));
    const sex: Sex = rng.chance(0.5) ? 'male' : 'female';
    const child = planner.japanese(
      [head?.family ?? '', head?.familyReading ?? ''],
      sex,
      birth,
      '子',
      head?.honseki,
      h.members,
    );
    child.benefits = h.nhi ? { nationalHealthInsurance: { insured: true, acquiredOn: birth } } : {};
    const notifiedOn = notified(birth);
    at(
      birth,
      () =>
        service.birth(actor, {
          effectiveDate: birth,
          notifiedOn,
          householdNo: hno(h),
          child: personInput(child),
        }),
      (r) => {
        child.personNo = r.persons[0]?.personNo;
        h.members.push(child);
      },
    );
  }

  // Moves within the city: whole households (one of them after a 旧氏 entry, for a longer history).
  const formerSurname = (h: Household, wife: Member, date: PlainDate) => {
    let maiden = planner.surname();
    while (maiden[0] === wife.family) maiden = planner.surname();
    at(date, () =>
      service.formerSurname(actor, {
        action: 'enter',
        effectiveDate: date,
        notifiedOn: date,
        personNo: no(wife),
        surname: maiden[0],
        reading: maiden[1],
      }),
    );
  };
  const moveWhole = (h: Household, date: PlainDate) => {
    const address = planner.addresses.home(0.5);
    const notifiedOn = notified(date);
    at(
      date,
      () =>
        service.moveWithin(actor, {
          effectiveDate: date,
          notifiedOn,
          personNos: h.members.filter((m) => m.personNo).map(no),
          address,
          household: { mode: 'same' },
        }),
      () => {
        h.address = address;
      },
    );
  };
  const wifeOf = (x: Household) =>
    japaneseHousehold(x) &&
    rel(x, '妻').length === 1 &&
    rel(x, '妻').every((w) => w.family === x.members[0]?.family);
  const chained = take((x) => wifeOf(x) && (x.type === 'couple' || x.type === 'coupleKids'), 600);
  if (chained) {
    const wife = rel(chained, '妻')[0];
    const entered = dateAfter(
      later(addDays(chained.movedInOn, 30), FORMER_SURNAME_START),
      addDays(last, -200),
    );
    if (wife) formerSurname(chained, wife, entered);
    moveWhole(chained, dateAfter(addDays(entered, 60)));
  }
  const secondFormer = take(wifeOf, 30);
  const secondWife = secondFormer ? rel(secondFormer, '妻')[0] : undefined;
  if (secondFormer && secondWife) {
    formerSurname(
      secondFormer,
      secondWife,
      dateAfter(later(addDays(secondFormer.movedInOn, 30), FORMER_SURNAME_START)),
    );
  }
  for (let i = 0; i < 6 * scale; i++) {
    const h = take(() => true, 180);
    if (!h) break;
    moveWhole(h, dateAfter(addDays(h.movedInOn, 180)));
  }

  // An adult child moving to a flat of their own (partial move, new household).
  const adultChild = (x: Household) => x.type === 'coupleKids' && rel(x, '子').some((c) => age(c) >= 21);
  for (let i = 0; i < 3 * scale; i++) {
    const h = take(adultChild, 120);
    if (!h) break;
    const kid = rel(h, '子').find((c) => age(c) >= 21);
    if (!kid) continue;
    const date = dateAfter(later(addDays(h.movedInOn, 120), addDays(ageReachedOn(kid.birth, 20), 1)));
    const address = planner.addresses.flat();
    const notifiedOn = notified(date);
    at(date, () =>
      service.moveWithin(actor, {
        effectiveDate: date,
        notifiedOn,
        personNos: [no(kid)],
        address,
        household: { mode: 'new', relationships: [{ personNo: no(kid), relationship: '世帯主' }] },
      }),
    );
  }

  // Household splits: the young family of a three-generation household; an adult child on their own.
  const youngFamily = take((x) => x.type === 'threeGen' && rel(x, '子').length === 1, 60);
  if (youngFamily) {
    const date = dateAfter(addDays(youngFamily.movedInOn, 60));
    const leaving = [
      ...rel(youngFamily, '子').map((m) => ({ m, relationship: '世帯主' })),
      ...rel(youngFamily, '子の妻').map((m) => ({ m, relationship: '妻' })),
      ...rel(youngFamily, '子の子').map((m) => ({ m, relationship: '子' })),
    ];
    at(date, () =>
      service.householdSplit(actor, {
        effectiveDate: date,
        notifiedOn: date,
        householdNo: hno(youngFamily),
        members: leaving.map(({ m, relationship }) => ({ personNo: no(m), relationship })),
      }),
    );
  }
  const splitChild = take(adultChild, 120);
  const splitKid = splitChild ? rel(splitChild, '子').find((c) => age(c) >= 21) : undefined;
  if (splitChild && splitKid) {
    const date = dateAfter(
      later(addDays(splitChild.movedInOn, 120), addDays(ageReachedOn(splitKid.birth, 20), 1)),
    );
    at(date, () =>
      service.householdSplit(actor, {
        effectiveDate: date,
        notifiedOn: date,
        householdNo: hno(splitChild),
        members: [{ personNo: no(splitKid), relationship: '世帯主' }],
        notes: '生計を別にするため',
      }),
    );
  }

  // Changes of head: a widow after her husband's death; a three-generation household handed to the son.
  const widowed = take(
    (x) =>
      x.type === 'couple' &&
      x.variant === 'elderly' &&
      x.members[0]?.sex === 'male' &&
      rel(x, '妻').length === 1,
    60,
  );
  if (widowed) {
    const [husband, wife] = [widowed.members[0], rel(widowed, '妻')[0]];
    const date = dateAfter(addDays(widowed.movedInOn, 60));
    const notifiedOn = notified(date);
    at(date, () =>
      service.death(actor, { effectiveDate: date, notifiedOn, personNo: no(husband), deathDate: date }),
    );
    at(date, () =>
      service.headChange(actor, {
        effectiveDate: date,
        notifiedOn,
        householdNo: hno(widowed),
        relationships: [{ personNo: no(wife), relationship: '世帯主' }],
      }),
    );
  }
  const handover = take((x) => x.type === 'threeGen' && rel(x, '子').length === 1, 60);
  if (handover) {
    const date = dateAfter(addDays(handover.movedInOn, 60));
    const next: Record<string, string> = {
      世帯主: '父',
      妻: '母',
      父: '父の父',
      母: '父の母',
      子: '世帯主',
      子の妻: '妻',
      子の子: '子',
    };
    at(date, () =>
      service.headChange(actor, {
        effectiveDate: date,
        notifiedOn: date,
        householdNo: hno(handover),
        relationships: handover.members
          .filter((m) => m.personNo)
          .map((m) => ({ personNo: no(m), relationship: next[m.relationship] ?? m.relationship })),
        notes: '世帯主の高齢により子が世帯主となる',
      }),
    );
  }

  // Deaths: one found late, with only an approximate date; other elderly people.
  const uncertainFrom = parsePlainDate('2024-05-12');
  if (uncertainFrom <= last) {
    const h = take(
      (x) =>
        x.type === 'single' &&
        x.variant === 'elderly' &&
        addDays(x.movedInOn, 60) <= parsePlainDate('2024-04-30'),
      60,
    );
    if (h) {
      const date = dateAfter(uncertainFrom, parsePlainDate('2024-05-20'));
      at(date, () =>
        service.death(actor, {
          effectiveDate: date,
          notifiedOn: weekday(date, last),
          personNo: no(h.members[0]),
          deathDate: '令和6年5月上旬',
          notes: '死亡日時は死亡診断書（死体検案書）による',
        }),
      );
    }
  }
  const death = (h: Household, m: Member | undefined) => {
    const date = dateAfter(addDays(h.movedInOn, 60));
    const notifiedOn = weekday(earlier(addDays(date, rng.int(0, 6)), anchor), anchor);
    // Now and then written in the era form, as on the notification.
    const deathDate = rng.chance(0.5) ? formatJapaneseDate(date) : date;
    at(date, () => service.death(actor, { effectiveDate: date, notifiedOn, personNo: no(m), deathDate }));
  };
  for (let i = 0; i < 3 * scale; i++) {
    const h = take(
      (x) => x.type === 'single' && x.variant === 'elderly' && age(x.members[0] as Member) >= 80,
    );
    if (h) death(h, h.members[0]);
  }
  const elderly = take((x) => x.type === 'threeGen' && (rel(x, '父').length > 0 || rel(x, '母').length > 0));
  if (elderly) death(elderly, rel(elderly, '父')[0] ?? rel(elderly, '母')[0]);
  const spouseDies = take((x) => x.type === 'couple' && x.variant === 'elderly' && rel(x, '妻').length === 1);
  if (spouseDies) death(spouseDies, rel(spouseDies, '妻')[0]);

  // Move-outs already effective (whole households, a child, a head leaving his family).
  const moveOut = (
    h: Household,
    movers: Member[],
    options: {
      abroad?: boolean;
      remaining?: Array<{ m: Member; relationship: string }>;
      notice?: boolean;
      notBefore?: PlainDate;
    } = {},
  ) => {
    const from = later(addDays(h.movedInOn, 90), options.notBefore ?? h.movedInOn);
    const planned = dateAfter(from, options.notice ? addDays(last, -30) : last);
    const notifiedOn = weekday(
      later(addDays(planned, -rng.int(options.notice ? 10 : 0, 14)), addDays(h.movedInOn, 1)),
      planned,
    );
    const destination = options.abroad ? planner.addresses.abroad() : planner.addresses.elsewhere();
    at(planned, () =>
      service.moveOut(actor, {
        notifiedOn,
        plannedDate: planned,
        personNos: movers.map(no),
        destination,
        remainingRelationships: (options.remaining ?? []).map(({ m, relationship }) => ({
          personNo: no(m),
          relationship,
        })),
      }),
    );
    if (options.notice) {
      // The new municipality reports that the person moved in two days before the planned date.
      const moveInDate = later(addDays(planned, -2), notifiedOn);
      at(addDays(planned, 5), () =>
        service.recordMoveInNotice(actor, { personNo: no(movers[0]), moveInDate }),
      );
    }
  };
  for (let i = 0; i < 4 * scale; i++) {
    const h = take((x) => x.type === 'single' && x.variant === 'young', 90);
    if (h) moveOut(h, h.members, { abroad: i === 1, notice: i === 2 });
  }
  for (let i = 0; i < 2 * scale; i++) {
    const h = take((x) => x.type === 'couple', 90);
    if (h) moveOut(h, h.members);
  }
  const family = take((x) => x.type === 'coupleKids' || x.type === 'singleParent', 90);
  if (family) moveOut(family, family.members);
  const leavingChild = take(adultChild, 90);
  const leavingKid = leavingChild ? rel(leavingChild, '子').find((c) => age(c) >= 21) : undefined;
  if (leavingChild && leavingKid) {
    moveOut(leavingChild, [leavingKid], { notBefore: addDays(ageReachedOn(leavingKid.birth, 18), 1) });
  }
  const separated = take(
    (x) => x.type === 'coupleKids' && x.members[0]?.sex === 'male' && rel(x, '妻').length === 1,
    90,
  );
  const separatedWife = separated ? rel(separated, '妻')[0] : undefined;
  if (separated && separatedWife) {
    moveOut(separated, [separated.members[0] as Member], {
      remaining: [{ m: separatedWife, relationship: '世帯主' }],
    });
  }

  // 職権消除: found not to live at the address.
  const gone = take((x) => x.type === 'single' && x.variant === 'young', 365);
  if (gone) {
    const date = dateAfter(addDays(gone.movedInOn, 365));
    at(date, () =>
      service.exOfficioRemoval(actor, {
        effectiveDate: date,
        personNo: no(gone.members[0]),
        ground: '実態調査により居住の事実が確認できないため',
      }),
    );
  }

  // 通称 of the special permanent resident.
  if (korean) {
    const date = dateAfter(addDays(korean.movedInOn, 7));
    at(date, () =>
      service.alias(actor, {
        action: 'enter',
        effectiveDate: date,
        notifiedOn: date,
        personNo: no(korean.members[0]),
        name: '金田　英夫',
        reading: 'カネダ　ヒデオ',
      }),
    );
  }

  // A My Number changed on the person's request (the card was lost and the number may have leaked).
  const renumbered = take((x) => japaneseHousehold(x) && age(x.members[0] as Member) >= 20, 30);
  if (renumbered) {
    const date = dateAfter(addDays(renumbered.movedInOn, 30));
    const myNumber = planner.numbers.myNumber();
    at(date, () =>
      service.changeMyNumber(actor, {
        effectiveDate: date,
        notifiedOn: date,
        personNo: no(renumbered.members[0]),
        myNumber,
        basis: 'request',
        notes: '個人番号漏えいのおそれによる本人請求',
      }),
    );
  }

  // Corrections: the building was renamed (minor correction); then a name corrected in error, cancelled.
  const corrected = take((x) => x.type === 'single' && Boolean(x.address.katagaki), 40);
  let wrongCorrection: number | undefined;
  if (corrected) {
    const person = corrected.members[0] as Member;
    const d1 = dateAfter(addDays(corrected.movedInOn, 20), addDays(last, -20));
    const d2 = dateAfter(addDays(d1, 1));
    const renamed = { ...corrected.address, katagaki: `グラン${corrected.address.katagaki ?? ''}` };
    const [wrongGiven] = planner.givenName(person.sex, person.birth, [person]);
    at(d1, () =>
      service.correct(actor, {
        effectiveDate: d1,
        personNo: no(person),
        kind: 'minorCorrection',
        patch: { address: renamed },
        notes: '建物名称の変更による方書の修正',
      }),
    );
    at(
      d2,
      () =>
        service.correct(actor, {
          effectiveDate: d2,
          notifiedOn: d2,
          personNo: no(person),
          kind: 'clericalErrorCorrection',
          patch: { name: { family: person.family, given: wrongGiven } },
        }),
      (r) => {
        wrongCorrection = r.changeId;
      },
    );
  }

  events.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.order - b.order));
  for (const e of events) await e.run();

  // 3. Today: the erroneous correction is cancelled; two move-outs are planned for the coming weeks.
  if (wrongCorrection !== undefined) {
    record(
      await service.cancel(actor, { changeId: wrongCorrection, notes: '対象者を誤って修正したため取消し' }),
    );
  }
  for (const days of [20, 35]) {
    const h = take((x) => x.type === 'single' && (x.variant === 'young' || x.variant === 'middle'), 0);
    if (!h) break;
    record(
      await service.moveOut(actor, {
        notifiedOn: today,
        plannedDate: addDays(today, days),
        personNos: [no(h.members[0])],
        destination: planner.addresses.elsewhere(),
      }),
    );
  }

  const householdNos = new Set<string>();
  const persons = new Set<string>();
  for (const r of results) {
    for (const h of r.householdNos) householdNos.add(h);
    for (const p of r.persons) persons.add(p.personNo);
  }
  return { households: householdNos.size, residents: persons.size, changes: results.length };
}
