/**
 * A synthetic population for benchmarks and load tests (issue 7): N persons of the demo city 架空市 in
 * households, deterministic from a seed, streamed one household at a time so that millions never sit in
 * memory.
 *
 * - Household sizes follow the census shares (1: 38 %, 2: 28 %, 3: 16 %, 4: 12 %, 5+: 6 %); heads' ages are
 *   drawn from a population-pyramid table (weighted so that about a quarter of persons are 65 or over and
 *   a ninth under 15), members are placed around them (spouse, children, parents).
 * - Names and readings come from the bundled lists of demo-data.ts; foreign residents (about 2.5 % of the
 *   persons, kept there by error diffusion) have a Latin name, nationality and residence status.
 * - Every 宛名番号, 世帯番号, 個人番号 and 住民票コード carries its check digit. 個人番号 and 住民票コード are
 *   bijections of the person's serial (an affine map modulo the number space), so they are unique without
 *   remembering them.
 * - Each person has about three history snapshots: entry (転入 or 出生), a move within the city (転居), a
 *   correction (振り仮名 certified); some households move out and some elderly persons die (除票).
 *
 * The records are complete ResidentRecords as the ChangeService writes them; population.loader.ts writes them.
 */
import {
  addDays,
  addYears,
  daysBetween,
  exactDate,
  householdNoFromSerial,
  myNumberFromBody,
  parsePlainDate,
  parseRelationship,
  personNoFromSerial,
  residentCodeFromBody,
  type PlainDate,
} from '../shared/index.js';
import type { Reason } from './change.js';
import {
  ABROAD,
  BUILDING_NAMES,
  HONSEKI_ELSEWHERE,
  OTHER_PLACES,
  Rng,
  SURNAMES,
  WARDS,
  blockAddress,
  givenPool,
} from './demo-data.js';
import type { ResidentRecord } from './resident.js';

export const DEFAULT_POPULATION_SEED = 1;
export const DEFAULT_POPULATION_RESIDENTS = 4_000_000;

export interface PopulationOptions {
  seed: number;
  /** Persons generated, removed records included. */
  residents: number;
  lgCode: string;
  /** The last 宛名番号 / 世帯番号 serials already used: generated numbers follow them. */
  personSerialAfter?: number;
  householdSerialAfter?: number;
  /** The day the population is "as of" (no event after it). Fixed, so output never depends on the clock. */
  asOf?: string;
}

export interface GeneratedChange {
  reason: Reason;
  effectiveDate: PlainDate;
  notifiedOn: PlainDate | undefined;
  notes: string | undefined;
}

export interface GeneratedSnapshot {
  /** Index into the household's `changes`. */
  change: number;
  historySeq: number;
  /** The full record, 個人番号 included (the loader encrypts it). */
  record: ResidentRecord;
}

export interface GeneratedHousehold {
  householdNo: string;
  /** Serial of the household (from its number). */
  householdSerial: number;
  /** Changes in the order they happened. */
  changes: GeneratedChange[];
  /** Snapshots of every member, each person's in history order. */
  snapshots: GeneratedSnapshot[];
  /** Members' latest records (the current-record index). */
  members: ResidentRecord[];
}

/** 2020 census household-size shares (percent); 5+ split 5: 4.2, 6: 1.3, 7: 0.5. */
const HOUSEHOLD_SIZES: ReadonlyArray<readonly [number, number]> = [
  [1, 38],
  [2, 28],
  [3, 16],
  [4, 12],
  [5, 4.2],
  [6, 1.3],
  [7, 0.5],
];

/** Population pyramid: share (percent) of each five-year age band, 2020 census (rounded). */
const AGE_BANDS: ReadonlyArray<readonly [number, number]> = [
  [0, 3.6],
  [5, 4.0],
  [10, 4.3],
  [15, 4.5],
  [20, 4.8],
  [25, 4.9],
  [30, 5.3],
  [35, 6.0],
  [40, 6.9],
  [45, 7.7],
  [50, 6.9],
  [55, 6.3],
  [60, 5.9],
  [65, 6.9],
  [70, 7.5],
  [75, 5.7],
  [80, 4.7],
  [85, 3.3],
  [90, 2.0],
];

const FOREIGN_SHARE = 0.025;
const FOREIGN_REGISTER_START = parsePlainDate('2012-07-09');
const EARLIEST_MOVE_IN = parsePlainDate('1990-01-01');

const FOREIGN_ORIGINS: ReadonlyArray<
  readonly [
    {
      nationality: string;
      family: readonly string[];
      given: readonly string[];
      kana: Record<string, string>;
    },
    number,
  ]
> = [
  [
    {
      nationality: '中国',
      family: ['WANG', 'LI', 'ZHANG', 'LIU', 'CHEN'],
      given: ['WEI', 'FANG', 'JING', 'LEI', 'YAN'],
      kana: {
        WANG: 'ワン',
        LI: 'リ',
        ZHANG: 'チャン',
        LIU: 'リウ',
        CHEN: 'チェン',
        WEI: 'ウェイ',
        FANG: 'ファン',
        JING: 'ジン',
        LEI: 'レイ',
        YAN: 'ヤン',
      },
    },
    30,
  ],
  [
    {
      nationality: 'ベトナム',
      family: ['NGUYEN', 'TRAN', 'LE', 'PHAM'],
      given: ['VAN AN', 'THI MAI', 'MINH', 'THI LAN'],
      kana: {
        NGUYEN: 'グエン',
        TRAN: 'チャン',
        LE: 'レ',
        PHAM: 'ファム',
        'VAN AN': 'ヴァン　アン',
        'THI MAI': 'ティ　マイ',
        MINH: 'ミン',
        'THI LAN': 'ティ　ラン',
      },
    },
    20,
  ],
  [
    {
      nationality: '韓国',
      family: ['KIM', 'LEE', 'PARK', 'CHOI'],
      given: ['MINJUN', 'SEOYEON', 'JIHO', 'HAEUN'],
      kana: {
        KIM: 'キム',
        LEE: 'イ',
        PARK: 'パク',
        CHOI: 'チェ',
        MINJUN: 'ミンジュン',
        SEOYEON: 'ソヨン',
        JIHO: 'ジホ',
        HAEUN: 'ハウン',
      },
    },
    15,
  ],
  [
    {
      nationality: 'フィリピン',
      family: ['SANTOS', 'REYES', 'CRUZ'],
      given: ['MARIA', 'JOSE', 'ANGELICA'],
      kana: {
        SANTOS: 'サントス',
        REYES: 'レイエス',
        CRUZ: 'クルス',
        MARIA: 'マリア',
        JOSE: 'ホセ',
        ANGELICA: 'アンジェリカ',
      },
    },
    10,
  ],
  [
    {
      nationality: 'ブラジル',
      family: ['SILVA', 'SOUZA', 'OLIVEIRA'],
      given: ['LUCAS', 'ANA', 'GABRIEL'],
      kana: {
        SILVA: 'シルヴァ',
        SOUZA: 'ソウザ',
        OLIVEIRA: 'オリヴェイラ',
        LUCAS: 'ルーカス',
        ANA: 'アナ',
        GABRIEL: 'ガブリエル',
      },
    },
    8,
  ],
  [
    {
      nationality: 'ネパール',
      family: ['GURUNG', 'SHRESTHA', 'TAMANG'],
      given: ['RAM', 'SITA', 'BIKASH'],
      kana: {
        GURUNG: 'グルン',
        SHRESTHA: 'シュレスタ',
        TAMANG: 'タマン',
        RAM: 'ラム',
        SITA: 'シタ',
        BIKASH: 'ビカス',
      },
    },
    7,
  ],
  [
    {
      nationality: 'アメリカ合衆国',
      family: ['SMITH', 'JOHNSON', 'BROWN'],
      given: ['JOHN', 'EMILY', 'MICHAEL'],
      kana: {
        SMITH: 'スミス',
        JOHNSON: 'ジョンソン',
        BROWN: 'ブラウン',
        JOHN: 'ジョン',
        EMILY: 'エミリー',
        MICHAEL: 'マイケル',
      },
    },
    5,
  ],
];

const RESIDENCE_STATUSES: ReadonlyArray<readonly [string, string]> = [
  ['永住者', '無期限'],
  ['技術・人文知識・国際業務', '5年'],
  ['留学', '4年3月'],
  ['技能実習第2号ロ', '2年'],
  ['家族滞在', '3年'],
  ['特定技能第1号', '1年'],
  ['日本人の配偶者等', '3年'],
];

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** An affine bijection of [0, space) (multiplier coprime to space), as a `digits`-digit string. */
function affine(serial: number, multiplier: bigint, offset: bigint, space: bigint, low: bigint): string {
  return String(((BigInt(serial) * multiplier + offset) % space) + low);
}

const MY_NUMBER_SPACE = 90_000_000_000n; // bodies 10000000000..99999999999
const MY_NUMBER_MULTIPLIER = 7_777_777_777n; // coprime to 2, 3 and 5
const RESIDENT_CODE_SPACE = 9_000_000_000n; // bodies 1000000000..9999999999
const RESIDENT_CODE_MULTIPLIER = 1_234_567_891n; // coprime to 2, 3 and 5

interface PlannedMember {
  relationship: string;
  sex: 'male' | 'female';
  birth: PlainDate;
  /** Surname from the head's family or a spouse's own. */
  surname: readonly [string, string];
}

/**
 * The population, one household at a time. Same options, same output, byte for byte.
 */
export function* generatePopulation(options: PopulationOptions): Generator<GeneratedHousehold> {
  const rng = new Rng(options.seed);
  const asOf = parsePlainDate(options.asOf ?? '2026-04-01');
  const seedOffset = BigInt(new Rng(options.seed ^ 0x5bd1e995).int(0, 2 ** 30));
  let personSerial = options.personSerialAfter ?? 0;
  let householdSerial = options.householdSerialAfter ?? 0;
  let generated = 0;
  let foreignPersons = 0;

  const birthForAge = (age: number): PlainDate => addDays(addYears(asOf, -age - 1), rng.int(1, 364));
  const pyramidAge = (min: number, max: number): number => {
    const bands = AGE_BANDS.filter(([from]) => from + 4 >= min && from <= max);
    for (;;) {
      const from = rng.weighted(bands.map(([f, w]) => [f, w] as const));
      const age = from + rng.int(0, from === 90 ? 12 : 4);
      if (age >= min && age <= max) return age;
    }
  };

  while (generated < options.residents) {
    const size = Math.min(rng.weighted(HOUSEHOLD_SIZES), options.residents - generated);
    const foreign = foreignPersons < FOREIGN_SHARE * (generated + size) && size <= 4;
    const planned = foreign ? planForeign(size) : planJapanese(size);
    householdSerial += 1;
    const householdNo = householdNoFromSerial(householdSerial);
    const serials = planned.map(() => ++personSerial);
    generated += planned.length;
    if (foreign) foreignPersons += planned.length;
    yield buildHousehold(householdNo, householdSerial, planned, serials, foreign);
  }

  function planJapanese(size: number): PlannedMember[] {
    const surname = rng.pick(SURNAMES);
    if (size === 1) {
      // A third of single-person households are persons aged 65 or more (2020 census).
      const age = rng.chance(0.35) ? pyramidAge(65, 102) : pyramidAge(18, 64);
      const sex = rng.chance(age >= 75 ? 0.68 : 0.45) ? 'female' : 'male';
      return [{ relationship: '世帯主', sex, birth: birthForAge(age), surname }];
    }
    // A couple at the top (or a single parent), children, and for large households the head's parents.
    const threeGen = size >= 5 && rng.chance(0.6);
    const couple = size === 2 ? rng.chance(0.7) : rng.chance(0.85);
    const headAge =
      size === 2 && couple
        ? rng.chance(0.55)
          ? pyramidAge(60, 95)
          : pyramidAge(22, 59)
        : pyramidAge(threeGen ? 35 : 28, threeGen ? 60 : 88);
    const headMale = rng.chance(couple ? 0.92 : 0.3);
    const members: PlannedMember[] = [
      { relationship: '世帯主', sex: headMale ? 'male' : 'female', birth: birthForAge(headAge), surname },
    ];
    if (couple) {
      members.push({
        relationship: headMale ? '妻' : '夫',
        sex: headMale ? 'female' : 'male',
        birth: birthForAge(Math.max(20, headAge + rng.int(-6, 3))),
        surname,
      });
    }
    if (threeGen) {
      const parentAge = Math.min(104, headAge + rng.int(25, 35));
      members.push({ relationship: '母', sex: 'female', birth: birthForAge(parentAge), surname });
      if (members.length < size && rng.chance(0.5)) {
        members.push({ relationship: '父', sex: 'male', birth: birthForAge(parentAge + 2), surname });
      }
    }
    // Children born to parents aged 22 to 45, drawn from the pyramid (grown-up children stay at home too).
    const mother = members.find(
      (m) => m.relationship !== '母' && m.relationship !== '父' && m.sex === 'female',
    );
    const parentAge = mother ? daysBetween(mother.birth, asOf) / 365.25 : headAge;
    const oldestChild = Math.max(0, Math.floor(parentAge) - 22);
    const youngestChild = Math.max(0, Math.floor(parentAge) - 45);
    while (members.length < size) {
      members.push({
        relationship: '子',
        sex: rng.chance(0.5) ? 'male' : 'female',
        birth: birthForAge(pyramidAge(youngestChild, oldestChild)),
        surname,
      });
    }
    return members;
  }

  function planForeign(size: number): PlannedMember[] {
    const headAge = pyramidAge(20, size > 1 ? 55 : 70);
    const headMale = rng.chance(0.55);
    const surname = ['', ''] as const;
    const members: PlannedMember[] = [
      { relationship: '世帯主', sex: headMale ? 'male' : 'female', birth: birthForAge(headAge), surname },
    ];
    if (size > 1) {
      members.push({
        relationship: headMale ? '妻' : '夫',
        sex: headMale ? 'female' : 'male',
        birth: birthForAge(Math.max(20, headAge + rng.int(-5, 3))),
        surname,
      });
    }
    while (members.length < size) {
      members.push({
        relationship: '子',
        sex: rng.chance(0.5) ? 'male' : 'female',
        birth: birthForAge(rng.int(0, Math.max(0, Math.min(17, headAge - 20)))),
        surname,
      });
    }
    return members;
  }

  function address(flat: boolean): ResidentRecord['address'] {
    const ward = rng.int(0, WARDS.length - 1);
    const town = rng.int(0, 3);
    const block = { ward, town, chome: rng.int(1, 3), ban: rng.int(1, 30), go: rng.int(1, 25) };
    return flat
      ? blockAddress(block, `${rng.pick(BUILDING_NAMES)}${rng.int(1, 12)}${pad(rng.int(1, 8), 2)}号室`)
      : blockAddress(block);
  }

  function dateIn(from: PlainDate, to: PlainDate): PlainDate | undefined {
    const span = daysBetween(from, to);
    return span < 0 ? undefined : addDays(from, rng.int(0, span));
  }

  function buildHousehold(
    householdNo: ReturnType<typeof householdNoFromSerial>,
    hSerial: number,
    planned: PlannedMember[],
    serials: number[],
    foreign: boolean,
  ): GeneratedHousehold {
    const head = planned[0] as PlannedMember;
    const earliest = foreign ? FOREIGN_REGISTER_START : EARLIEST_MOVE_IN;
    const adultFrom = addYears(head.birth, 18);
    const moveIn =
      dateIn(adultFrom > earliest ? adultFrom : earliest, addDays(asOf, -400)) ?? addDays(asOf, -400);
    const flat = rng.chance(0.45);
    const origin = foreign
      ? { text: rng.pick(ABROAD), abroad: true }
      : {
          text: `${rng.pick(OTHER_PLACES)}${rng.int(1, 30)}番${rng.int(1, 25)}号`,
          abroad: false,
        };
    const nationalityPick = foreign ? rng.weighted(FOREIGN_ORIGINS) : undefined;
    const foreignFamily = nationalityPick ? rng.pick(nationalityPick.family) : '';
    const honsekiPlace = rng.chance(0.45)
      ? `架空市${rng.pick(WARDS).name}${rng.int(1, 30)}番地`
      : `${rng.pick(HONSEKI_ELSEWHERE)}${rng.int(1, 1500)}番地`;

    const changes: GeneratedChange[] = [];
    const snapshots: GeneratedSnapshot[] = [];
    const latest: ResidentRecord[] = [];
    const entryChange =
      changes.push({
        reason: foreign ? 'moveInFromAbroad' : 'domesticMoveIn',
        effectiveDate: moveIn,
        notifiedOn: addDays(moveIn, rng.int(0, 13)),
        notes: undefined,
      }) - 1;
    const firstAddress = address(flat);
    const headName = { family: head.surname[0], given: '' };

    planned.forEach((m, i) => {
      const personNo = personNoFromSerial(serials[i] as number);
      const born = m.birth > moveIn;
      const [given, givenReading] = rng.pick(givenPool(m.sex, m.birth));
      if (i === 0) headName.given = given;
      let change = entryChange;
      if (born) {
        change =
          changes.push({
            reason: 'birth',
            effectiveDate: m.birth,
            notifiedOn: addDays(m.birth, rng.int(1, 13)),
            notes: undefined,
          }) - 1;
      }
      const since = born ? m.birth : moveIn;
      let record: ResidentRecord;
      const base = {
        personNo,
        status: 'current' as const,
        birthDate: exactDate(m.birth),
        sex: m.sex,
        householdNo,
        householdOrder: i + 1,
        relationship: parseRelationship(m.relationship),
        residentSince: since,
        address: firstAddress,
        addressSetOn: since,
        notifiedOn: changes[change]?.notifiedOn ?? since,
        myNumber: myNumberFromBody(
          affine(serials[i] as number, MY_NUMBER_MULTIPLIER, seedOffset, MY_NUMBER_SPACE, 10_000_000_000n),
        ),
        residentCode: residentCodeFromBody(
          affine(
            serials[i] as number,
            RESIDENT_CODE_MULTIPLIER,
            seedOffset,
            RESIDENT_CODE_SPACE,
            1_000_000_000n,
          ),
        ),
      };
      if (nationalityPick) {
        const latinGiven = rng.pick(nationalityPick.given);
        const category =
          nationalityPick.nationality === '韓国' && rng.chance(0.4) ? 'specialPermanent' : 'midLongTerm';
        const card = `${String.fromCharCode(65 + rng.int(0, 25))}${String.fromCharCode(65 + rng.int(0, 25))}${pad(serials[i] as number, 8)}${String.fromCharCode(65 + rng.int(0, 25))}${String.fromCharCode(65 + rng.int(0, 25))}`;
        const [residenceStatus, periodOfStay] = rng.pick(RESIDENCE_STATUSES);
        record = {
          ...base,
          kind: 'foreign',
          reading: {
            family: nationalityPick.kana[foreignFamily] ?? 'ガイコク',
            given: nationalityPick.kana[latinGiven] ?? '',
            status: 'notCertified',
          },
          ...(born ? {} : { previousAddress: origin }),
          benefits: {},
          foreign: {
            latinName: `${foreignFamily} ${latinGiven}`,
            nationality: nationalityPick.nationality,
            foreignResidentSince: since,
            status:
              category === 'specialPermanent'
                ? { category, certificateNo: card }
                : {
                    category,
                    residenceStatus,
                    periodOfStay,
                    expiryDate: addYears(asOf, rng.int(1, 5)),
                    residenceCardNo: card,
                  },
            aliasHistory: [],
          },
        };
      } else {
        record = {
          ...base,
          kind: 'japanese',
          name: { family: m.surname[0], given },
          reading: { family: m.surname[1], given: givenReading, status: 'notCertified' },
          honseki: {
            kind: 'registered',
            address: honsekiPlace,
            familyRegisterHead: `${headName.family}　${headName.given}`,
          },
          ...(born ? {} : { previousAddress: origin }),
          benefits: {},
        };
      }
      snapshots.push({ change, historySeq: 1, record });
      latest.push(record);
    });

    // 転居 within the city, for most households, after everyone is on the register.
    const youngest = planned.reduce((d, m) => (m.birth > d ? m.birth : d), moveIn);
    const moveDate = rng.chance(0.9) ? dateIn(addDays(youngest, 30), addDays(asOf, -200)) : undefined;
    if (moveDate) {
      const c =
        changes.push({
          reason: 'moveWithin',
          effectiveDate: moveDate,
          notifiedOn: addDays(moveDate, rng.int(0, 13)),
          notes: undefined,
        }) - 1;
      const newAddress = address(rng.chance(0.5));
      latest.forEach((r, i) => {
        const next = {
          ...r,
          address: newAddress,
          addressSetOn: moveDate,
          notifiedOn: changes[c]!.notifiedOn!,
        };
        latest[i] = next;
        snapshots.push({ change: c, historySeq: lastSeq(snapshots, r.personNo) + 1, record: next });
      });
    }

    // 振り仮名 certified by the family-register office (Japanese residents).
    const lastEvent = changes[changes.length - 1]!.effectiveDate;
    const certDate =
      !foreign && rng.chance(0.9) ? dateIn(addDays(lastEvent, 1), addDays(asOf, -100)) : undefined;
    if (certDate) {
      const c =
        changes.push({
          reason: 'exOfficioCorrection',
          effectiveDate: certDate,
          notifiedOn: undefined,
          notes: '振り仮名の確認（戸籍）',
        }) - 1;
      latest.forEach((r, i) => {
        const next = { ...r, reading: { ...r.reading, status: 'certified' as const } };
        latest[i] = next;
        snapshots.push({ change: c, historySeq: lastSeq(snapshots, r.personNo) + 1, record: next });
      });
    }

    // Removals: the whole household moved out, or an elderly member died.
    const after = addDays(changes[changes.length - 1]!.effectiveDate, 1);
    const removal = rng.next();
    if (removal < 0.06) {
      const date = dateIn(after, addDays(asOf, -1));
      if (date) {
        const destination = rng.chance(0.1)
          ? { text: rng.pick(ABROAD), abroad: true }
          : { text: `${rng.pick(OTHER_PLACES)}${rng.int(1, 30)}番${rng.int(1, 25)}号`, abroad: false };
        const c =
          changes.push({
            reason: destination.abroad ? 'moveOutAbroad' : 'domesticMoveOut',
            effectiveDate: date,
            notifiedOn: addDays(date, -rng.int(0, 14)),
            notes: undefined,
          }) - 1;
        latest.forEach((r, i) => {
          const next: ResidentRecord = {
            ...r,
            status: 'movedOut',
            removal: { reason: changes[c]!.reason, effectiveDate: date, destination },
          };
          latest[i] = next;
          snapshots.push({ change: c, historySeq: lastSeq(snapshots, r.personNo) + 1, record: next });
        });
      }
    } else {
      const elderly = latest.findIndex(
        (r) => r.birthDate.kind === 'exact' && r.birthDate.date < addYears(asOf, -80),
      );
      const date =
        elderly >= 0 && latest.length === 1 && rng.chance(0.15)
          ? dateIn(after, addDays(asOf, -1))
          : undefined;
      if (date) {
        const c =
          changes.push({
            reason: 'death',
            effectiveDate: date,
            notifiedOn: addDays(date, rng.int(0, 6)),
            notes: undefined,
          }) - 1;
        const r = latest[elderly] as ResidentRecord;
        const next: ResidentRecord = {
          ...r,
          status: 'dead',
          removal: { reason: 'death', effectiveDate: date, deathDate: exactDate(date) },
        };
        latest[elderly] = next;
        snapshots.push({ change: c, historySeq: lastSeq(snapshots, r.personNo) + 1, record: next });
      }
    }
    return { householdNo, householdSerial: hSerial, changes, snapshots, members: latest };
  }
}

function lastSeq(snapshots: readonly GeneratedSnapshot[], personNo: string): number {
  let seq = 0;
  for (const s of snapshots) if (s.record.personNo === personNo && s.historySeq > seq) seq = s.historySeq;
  return seq;
}
