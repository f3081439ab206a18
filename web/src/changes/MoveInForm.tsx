/**
 * 転入 (and 出生, which enters one child into an existing household): the members and where they go. A
 * Japanese member may have 本籍・筆頭者; a foreign member has the art. 30-45 items (英字氏名, 国籍・地域, the
 * date they became a foreign resident, the category with its own items) and may have a 通称.
 */
import { useState, type FormEvent } from 'react';
import type { SignedIn } from '../api.js';
import { SEX_LABEL } from '../format.js';
import { interpretDate } from './dates.js';
import type { Draft } from './draft.js';
import {
  DateField,
  RelationshipList,
  SelectField,
  TextField,
  checkDigits,
  digitsOf,
  focusFirstError,
  optional,
  requireDate,
  requireText,
  shownDate,
  type Errors,
} from './fields.js';

export interface Member {
  key: number;
  family: string;
  given: string;
  readingFamily: string;
  readingGiven: string;
  birthDate: string;
  sex: '' | 'male' | 'female';
  relationship: string;
  myNumber: string;
  residentCode: string;
  kind: 'japanese' | 'foreign';
  /** 本籍・筆頭者 (Japanese residents): not entered, registered, none (無籍) or unknown (不詳). */
  honsekiKind: '' | 'registered' | 'none' | 'unknown';
  honsekiAddress: string;
  familyRegisterHead: string;
  latinName: string;
  nationality: string;
  foreignSince: string;
  category: Category;
  residenceStatus: string;
  periodOfStay: string;
  expiryDate: string;
  cardNo: string;
  permittedOn: string;
  transitionalCause: 'birth' | 'nationalityLoss';
  aliasName: string;
  aliasReading: string;
}

type Category =
  'midLongTerm' | 'specialPermanent' | 'temporaryRefuge' | 'provisionalStay' | 'transitionalStay';

const CATEGORY_OPTIONS: ReadonlyArray<readonly [Category, string]> = [
  ['midLongTerm', '中長期在留者'],
  ['specialPermanent', '特別永住者'],
  ['temporaryRefuge', '一時庇護許可者'],
  ['provisionalStay', '仮滞在許可者'],
  ['transitionalStay', '経過滞在者（出生・国籍喪失）'],
];

let nextKey = 1;
function emptyMember(relationship = ''): Member {
  return {
    key: nextKey++,
    family: '',
    given: '',
    readingFamily: '',
    readingGiven: '',
    birthDate: '',
    sex: '',
    relationship,
    myNumber: '',
    residentCode: '',
    kind: 'japanese',
    honsekiKind: '',
    honsekiAddress: '',
    familyRegisterHead: '',
    latinName: '',
    nationality: '',
    foreignSince: '',
    category: 'midLongTerm',
    residenceStatus: '',
    periodOfStay: '',
    expiryDate: '',
    cardNo: '',
    permittedOn: '',
    transitionalCause: 'birth',
    aliasName: '',
    aliasReading: '',
  };
}

const SEX_OPTIONS = [
  ['', '選択してください'],
  ['male', '男'],
  ['female', '女'],
] as const;

const CARD_NO = /^[A-Z]{2}\d{8}[A-Z]{2}$/;

function checkMember(errors: Errors, p: string, m: Member): void {
  if (m.kind === 'japanese') requireText(errors, `${p}-family`, m.family, '氏');
  requireText(errors, `${p}-readingFamily`, m.readingFamily, 'ふりがな（氏）');
  requireDate(errors, `${p}-birthDate`, m.birthDate, '生年月日', true);
  if (!m.sex) errors[`${p}-sex`] = '性別を選んでください。';
  requireText(errors, `${p}-relationship`, m.relationship, '続柄');
  checkDigits(errors, `${p}-myNumber`, m.myNumber, '個人番号', 12);
  checkDigits(errors, `${p}-residentCode`, m.residentCode, '住民票コード', 11);
  if (m.kind === 'japanese') {
    if (m.honsekiKind === 'registered') {
      requireText(errors, `${p}-honsekiAddress`, m.honsekiAddress, '本籍');
      requireText(errors, `${p}-familyRegisterHead`, m.familyRegisterHead, '筆頭者');
    }
    return;
  }
  requireText(errors, `${p}-latinName`, m.latinName, '氏名（英字）');
  requireText(errors, `${p}-nationality`, m.nationality, '国籍・地域');
  requireDate(errors, `${p}-foreignSince`, m.foreignSince, '外国人住民となった年月日');
  const card = (id: string, v: string, label: string) => {
    requireText(errors, id, v, label);
    if (v.trim() && !CARD_NO.test(v.normalize('NFKC').trim().toUpperCase())) {
      errors[id] = `${label}は英字2桁・数字8桁・英字2桁で入力してください。`;
    }
  };
  switch (m.category) {
    case 'midLongTerm':
      requireText(errors, `${p}-residenceStatus`, m.residenceStatus, '在留資格');
      requireText(errors, `${p}-periodOfStay`, m.periodOfStay, '在留期間');
      requireDate(errors, `${p}-expiryDate`, m.expiryDate, '在留期間の満了日');
      card(`${p}-cardNo`, m.cardNo, '在留カード番号');
      break;
    case 'specialPermanent':
      card(`${p}-cardNo`, m.cardNo, '特別永住者証明書番号');
      break;
    case 'temporaryRefuge':
    case 'provisionalStay':
      requireDate(errors, `${p}-permittedOn`, m.permittedOn, '許可日');
      requireDate(errors, `${p}-expiryDate`, m.expiryDate, '期間の満了日');
      break;
    case 'transitionalStay':
      requireDate(errors, `${p}-permittedOn`, m.permittedOn, '経過滞在の開始日');
      break;
  }
}

/** A calendar day as the server's plain dates take it (YYYY-MM-DD). */
function isoOf(value: string): string {
  return interpretDate(value) ?? value.trim();
}

function foreignStatusOf(m: Member) {
  const cardNo = m.cardNo.normalize('NFKC').trim().toUpperCase();
  switch (m.category) {
    case 'midLongTerm':
      return {
        category: m.category,
        residenceStatus: m.residenceStatus.trim(),
        periodOfStay: m.periodOfStay.trim(),
        expiryDate: isoOf(m.expiryDate),
        residenceCardNo: cardNo,
      };
    case 'specialPermanent':
      return { category: m.category, certificateNo: cardNo };
    case 'temporaryRefuge':
    case 'provisionalStay':
      return { category: m.category, permittedOn: isoOf(m.permittedOn), expiryDate: isoOf(m.expiryDate) };
    case 'transitionalStay':
      return { category: m.category, cause: m.transitionalCause, since: isoOf(m.permittedOn) };
  }
}

/** The member as the API takes it; `entry` dates and enters the 通称 of a foreign member. */
function memberBody(m: Member, entry?: { on: string; lgCode: string }) {
  const common = {
    kind: m.kind,
    reading: { family: m.readingFamily.trim(), given: m.readingGiven.trim() },
    birthDate: m.birthDate.trim(),
    sex: m.sex,
    relationship: m.relationship.trim(),
    myNumber: digitsOf(m.myNumber),
    residentCode: digitsOf(m.residentCode),
  };
  const name = m.family.trim() ? { name: { family: m.family.trim(), given: m.given.trim() } } : {};
  if (m.kind === 'japanese') {
    const honseki =
      m.honsekiKind === ''
        ? undefined
        : m.honsekiKind === 'registered'
          ? {
              kind: 'registered',
              address: m.honsekiAddress.trim(),
              familyRegisterHead: m.familyRegisterHead.trim(),
            }
          : { kind: m.honsekiKind };
    return { ...common, name: { family: m.family.trim(), given: m.given.trim() }, honseki };
  }
  const alias =
    m.aliasName.trim() && entry
      ? {
          name: m.aliasName.trim(),
          reading: optional(m.aliasReading),
          enteredOn: isoOf(entry.on),
          enteredBy: entry.lgCode,
        }
      : undefined;
  return {
    ...common,
    ...name,
    foreign: {
      latinName: m.latinName.trim(),
      nationality: m.nationality.trim(),
      foreignResidentSince: isoOf(m.foreignSince),
      status: foreignStatusOf(m),
      ...(alias ? { alias, aliasHistory: [alias] } : {}),
    },
  };
}

function memberSummary(m: Member): string {
  const name =
    m.kind === 'foreign'
      ? `${m.latinName.trim()}${m.family.trim() ? `（${m.family} ${m.given}）` : ''}（${m.readingFamily} ${m.readingGiven}）`
      : `${m.family} ${m.given}（${m.readingFamily} ${m.readingGiven}）`;
  return [
    name,
    `${m.relationship}`,
    m.sex ? SEX_LABEL[m.sex] : '',
    `生年月日 ${shownDate(m.birthDate)}`,
    m.kind === 'foreign' ? `外国人住民・${m.nationality.trim()}` : '',
    m.kind === 'foreign' ? (CATEGORY_OPTIONS.find(([c]) => c === m.category)?.[1] ?? '') : '',
    m.kind === 'foreign' && m.aliasName.trim() ? `通称 ${m.aliasName.trim()}` : '',
    m.kind === 'japanese' && m.honsekiKind !== '' ? '本籍・筆頭者あり' : '',
    m.myNumber.trim() ? '個人番号あり' : '',
    m.residentCode.trim() ? '住民票コードあり' : '',
  ]
    .filter(Boolean)
    .join('・');
}

/** What a member is called in the result list. */
function memberName(m: Member): string {
  return m.kind === 'foreign' && !m.family.trim() ? m.latinName.trim() : `${m.family} ${m.given}`.trim();
}

function MemberFields({
  prefix,
  index,
  member,
  errors,
  onChange,
  onRemove,
  legend,
}: {
  legend: string;
  prefix: string;
  index: number;
  member: Member;
  errors: Errors;
  onChange: (m: Member) => void;
  onRemove?: () => void;
}) {
  const set = (k: keyof Member) => (v: string) => onChange({ ...member, [k]: v });
  const p = `${prefix}-${index}`;
  return (
    <fieldset className="member">
      <legend>{legend}</legend>
      <div className="change-grid">
        <SelectField
          id={`${p}-kind`}
          label="住民の種別"
          value={member.kind}
          onChange={set('kind')}
          options={[
            ['japanese', '日本人住民'],
            ['foreign', '外国人住民'],
          ]}
          errors={errors}
        />
        {member.kind === 'foreign' && (
          <TextField
            id={`${p}-latinName`}
            label="氏名（英字）"
            value={member.latinName}
            onChange={set('latinName')}
            errors={errors}
            required
            hint="旅券・在留カードのとおり（例: SMITH JOHN）"
          />
        )}
        <TextField
          id={`${p}-family`}
          label={member.kind === 'foreign' ? '氏（漢字がある場合）' : '氏'}
          value={member.family}
          onChange={set('family')}
          errors={errors}
          required={member.kind === 'japanese'}
        />
        <TextField
          id={`${p}-given`}
          label="名"
          value={member.given}
          onChange={set('given')}
          errors={errors}
        />
        <TextField
          id={`${p}-readingFamily`}
          label="ふりがな（氏）"
          value={member.readingFamily}
          onChange={set('readingFamily')}
          errors={errors}
          required
        />
        <TextField
          id={`${p}-readingGiven`}
          label="ふりがな（名）"
          value={member.readingGiven}
          onChange={set('readingGiven')}
          errors={errors}
        />
        <DateField
          id={`${p}-birthDate`}
          label="生年月日"
          value={member.birthDate}
          onChange={set('birthDate')}
          errors={errors}
          required
          uncertain
        />
        <SelectField
          id={`${p}-sex`}
          label="性別"
          value={member.sex}
          onChange={set('sex')}
          options={SEX_OPTIONS}
          errors={errors}
          required
        />
        <TextField
          id={`${p}-relationship`}
          label="続柄"
          value={member.relationship}
          onChange={set('relationship')}
          errors={errors}
          required
          list="change-relationships"
          hint="世帯主・妻・子・子の子 など"
        />
        <TextField
          id={`${p}-myNumber`}
          label="個人番号（任意）"
          value={member.myNumber}
          onChange={set('myNumber')}
          errors={errors}
          inputMode="numeric"
          hint="12桁の数字"
        />
        <TextField
          id={`${p}-residentCode`}
          label="住民票コード（任意）"
          value={member.residentCode}
          onChange={set('residentCode')}
          errors={errors}
          inputMode="numeric"
          hint="11桁の数字"
        />
      </div>
      {member.kind === 'japanese' ? (
        <div className="change-grid">
          <SelectField
            id={`${p}-honsekiKind`}
            label="本籍・筆頭者"
            value={member.honsekiKind}
            onChange={set('honsekiKind')}
            options={[
              ['', '記載しない（届出にない）'],
              ['registered', '本籍と筆頭者を記載'],
              ['none', '無籍'],
              ['unknown', '不詳'],
            ]}
            errors={errors}
          />
          {member.honsekiKind === 'registered' && (
            <>
              <TextField
                id={`${p}-honsekiAddress`}
                label="本籍"
                value={member.honsekiAddress}
                onChange={set('honsekiAddress')}
                errors={errors}
                required
              />
              <TextField
                id={`${p}-familyRegisterHead`}
                label="筆頭者"
                value={member.familyRegisterHead}
                onChange={set('familyRegisterHead')}
                errors={errors}
                required
              />
            </>
          )}
        </div>
      ) : (
        <ForeignFields p={p} member={member} errors={errors} set={set} />
      )}
      {onRemove && (
        <button
          type="button"
          className="secondary"
          onClick={onRemove}
          aria-label={`世帯員 ${index + 1} を削除`}
        >
          この世帯員を削除
        </button>
      )}
    </fieldset>
  );
}

/** The art. 30-45 items of a foreign member, and the 通称 if one is entered with the move-in. */
function ForeignFields({
  p,
  member,
  errors,
  set,
}: {
  p: string;
  member: Member;
  errors: Errors;
  set: (k: keyof Member) => (v: string) => void;
}) {
  const c = member.category;
  return (
    <div className="change-grid">
      <TextField
        id={`${p}-nationality`}
        label="国籍・地域"
        value={member.nationality}
        onChange={set('nationality')}
        errors={errors}
        required
      />
      <DateField
        id={`${p}-foreignSince`}
        label="外国人住民となった年月日"
        value={member.foreignSince}
        onChange={set('foreignSince')}
        errors={errors}
        required
      />
      <SelectField
        id={`${p}-category`}
        label="30条45規定区分"
        value={c}
        onChange={set('category')}
        options={CATEGORY_OPTIONS}
        errors={errors}
        required
      />
      {c === 'midLongTerm' && (
        <>
          <TextField
            id={`${p}-residenceStatus`}
            label="在留資格"
            value={member.residenceStatus}
            onChange={set('residenceStatus')}
            errors={errors}
            required
            hint="例: 技術・人文知識・国際業務、永住者"
          />
          <TextField
            id={`${p}-periodOfStay`}
            label="在留期間"
            value={member.periodOfStay}
            onChange={set('periodOfStay')}
            errors={errors}
            required
            hint="例: 5年、3月"
          />
          <DateField
            id={`${p}-expiryDate`}
            label="在留期間の満了日"
            value={member.expiryDate}
            onChange={set('expiryDate')}
            errors={errors}
            required
          />
        </>
      )}
      {(c === 'midLongTerm' || c === 'specialPermanent') && (
        <TextField
          id={`${p}-cardNo`}
          label={c === 'midLongTerm' ? '在留カード番号' : '特別永住者証明書番号'}
          value={member.cardNo}
          onChange={set('cardNo')}
          errors={errors}
          required
          hint="英字2桁・数字8桁・英字2桁（例: AB12345678CD）"
        />
      )}
      {(c === 'temporaryRefuge' || c === 'provisionalStay') && (
        <>
          <DateField
            id={`${p}-permittedOn`}
            label="許可日"
            value={member.permittedOn}
            onChange={set('permittedOn')}
            errors={errors}
            required
          />
          <DateField
            id={`${p}-expiryDate`}
            label="期間の満了日"
            value={member.expiryDate}
            onChange={set('expiryDate')}
            errors={errors}
            required
          />
        </>
      )}
      {c === 'transitionalStay' && (
        <>
          <SelectField
            id={`${p}-transitionalCause`}
            label="経過滞在の事由"
            value={member.transitionalCause}
            onChange={set('transitionalCause')}
            options={[
              ['birth', '出生'],
              ['nationalityLoss', '日本国籍の喪失'],
            ]}
            errors={errors}
          />
          <DateField
            id={`${p}-permittedOn`}
            label="経過滞在の開始日"
            value={member.permittedOn}
            onChange={set('permittedOn')}
            errors={errors}
            required
          />
        </>
      )}
      <TextField
        id={`${p}-aliasName`}
        label="通称（任意）"
        value={member.aliasName}
        onChange={set('aliasName')}
        errors={errors}
      />
      <TextField
        id={`${p}-aliasReading`}
        label="通称のふりがな（任意）"
        value={member.aliasReading}
        onChange={set('aliasReading')}
        errors={errors}
      />
    </div>
  );
}

interface FormProps {
  session: SignedIn;
  onReady: (draft: Draft) => void;
}

export function MoveInForm({ session, onReady }: FormProps) {
  const [origin, setOrigin] = useState<'domestic' | 'abroad'>('domestic');
  const [mode, setMode] = useState<'new' | 'join'>('new');
  const [householdNo, setHouseholdNo] = useState('');
  const [address, setAddress] = useState('');
  const [katagaki, setKatagaki] = useState('');
  const [previous, setPrevious] = useState('');
  const [effectiveDate, setEffectiveDate] = useState('');
  const [notifiedOn, setNotifiedOn] = useState('');
  const [members, setMembers] = useState<Member[]>(() => [emptyMember('世帯主')]);

  const [tried, setTried] = useState(false);

  const check = (): Errors => {
    const errs: Errors = {};
    if (mode === 'join') requireText(errs, 'movein-householdNo', householdNo, '世帯番号');
    requireText(errs, 'movein-address', address, '住所');
    requireText(errs, 'movein-previous', previous, '前住所');
    requireDate(errs, 'movein-effectiveDate', effectiveDate, '異動日（転入日）');
    requireDate(errs, 'movein-notifiedOn', notifiedOn, '届出日');
    members.forEach((m, i) => checkMember(errs, `movein-m-${i}`, m));
    return errs;
  };
  // After the first attempt, the messages follow the input as it is corrected.
  const errors = tried ? check() : {};

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (focusFirstError(check())) return;
    onReady({
      path: 'move-in',
      title: origin === 'abroad' ? '国外からの転入' : '転入',
      body: {
        origin,
        effectiveDate: effectiveDate.trim(),
        notifiedOn: notifiedOn.trim(),
        address: { text: address.trim(), katagaki: optional(katagaki) },
        previousAddress: { text: previous.trim(), abroad: origin === 'abroad' },
        household: mode === 'join' ? { mode: 'join', householdNo: householdNo.trim() } : { mode: 'new' },
        members: members.map((m) => memberBody(m, { on: effectiveDate, lgCode: session.lgCode })),
      },
      summary: [
        ['転入元', origin === 'abroad' ? '国外' : '国内'],
        [
          '世帯',
          mode === 'join' ? `既存の世帯（世帯番号 ${householdNo.trim()}）に加わる` : '新しい世帯を設ける',
        ],
        ['住所', `${address.trim()} ${katagaki.trim()}`.trim()],
        ['前住所', previous.trim()],
        ['異動日', shownDate(effectiveDate)],
        ['届出日', shownDate(notifiedOn)],
        ...members.map((m, i): [string, string] => [`世帯員 ${i + 1}`, memberSummary(m)]),
      ],
      names: members.map(memberName),
    });
  };

  return (
    <form onSubmit={submit} noValidate aria-label="転入の届出">
      <RelationshipList />
      <div className="change-grid">
        <SelectField
          id="movein-origin"
          label="転入元"
          value={origin}
          onChange={(v) => setOrigin(v as 'domestic' | 'abroad')}
          options={[
            ['domestic', '国内から'],
            ['abroad', '国外から'],
          ]}
          errors={errors}
        />
        <SelectField
          id="movein-mode"
          label="世帯"
          value={mode}
          onChange={(v) => setMode(v as 'new' | 'join')}
          options={[
            ['new', '新しい世帯を設ける'],
            ['join', '既存の世帯に加わる'],
          ]}
          errors={errors}
        />
        {mode === 'join' && (
          <TextField
            id="movein-householdNo"
            label="加わる世帯の世帯番号"
            value={householdNo}
            onChange={setHouseholdNo}
            errors={errors}
            required
          />
        )}
        <TextField
          id="movein-address"
          label="住所"
          value={address}
          onChange={setAddress}
          errors={errors}
          required
          hint="例: 架空市中央区本町一丁目2番3号"
        />
        <TextField
          id="movein-katagaki"
          label="方書（任意）"
          value={katagaki}
          onChange={setKatagaki}
          errors={errors}
        />
        <TextField
          id="movein-previous"
          label={origin === 'abroad' ? '前住所（国外）' : '前住所'}
          value={previous}
          onChange={setPrevious}
          errors={errors}
          required
        />
        <DateField
          id="movein-effectiveDate"
          label="異動日（転入日）"
          value={effectiveDate}
          onChange={setEffectiveDate}
          errors={errors}
          required
        />
        <DateField
          id="movein-notifiedOn"
          label="届出日"
          value={notifiedOn}
          onChange={setNotifiedOn}
          errors={errors}
          required
        />
      </div>
      <h2>世帯員（{members.length}人）</h2>
      {members.map((m, i) => (
        <MemberFields
          key={m.key}
          legend={`世帯員 ${i + 1}`}
          prefix="movein-m"
          index={i}
          member={m}
          errors={errors}
          onChange={(next) => setMembers(members.map((x) => (x.key === m.key ? next : x)))}
          onRemove={members.length > 1 ? () => setMembers(members.filter((x) => x.key !== m.key)) : undefined}
        />
      ))}
      <div className="actions">
        <button type="button" className="secondary" onClick={() => setMembers([...members, emptyMember()])}>
          世帯員を追加
        </button>
        <button type="submit">確認へ進む</button>
      </div>
    </form>
  );
}

export function BirthForm({ session, onReady }: FormProps) {
  const [householdNo, setHouseholdNo] = useState('');
  const [notifiedOn, setNotifiedOn] = useState('');
  const [child, setChild] = useState<Member>(() => emptyMember('子'));
  const [tried, setTried] = useState(false);

  const check = (): Errors => {
    const errs: Errors = {};
    requireText(errs, 'birth-householdNo', householdNo, '世帯番号');
    requireDate(errs, 'birth-notifiedOn', notifiedOn, '届出日');
    checkMember(errs, 'birth-c-0', child);
    return errs;
  };
  const errors = tried ? check() : {};

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (focusFirstError(check())) return;
    onReady({
      path: 'birth',
      title: '出生',
      body: {
        householdNo: householdNo.trim(),
        // 出生の異動日は生年月日。
        effectiveDate: child.birthDate.trim(),
        notifiedOn: notifiedOn.trim(),
        child: memberBody(child, { on: child.birthDate, lgCode: session.lgCode }),
      },
      summary: [
        ['世帯番号', householdNo.trim()],
        ['異動日（出生日）', shownDate(child.birthDate)],
        ['届出日', shownDate(notifiedOn)],
        ['子', memberSummary(child)],
      ],
      names: [memberName(child)],
    });
  };

  return (
    <form onSubmit={submit} noValidate aria-label="出生の届出">
      <RelationshipList />
      <div className="change-grid">
        <TextField
          id="birth-householdNo"
          label="入る世帯の世帯番号"
          value={householdNo}
          onChange={setHouseholdNo}
          errors={errors}
          required
        />
        <DateField
          id="birth-notifiedOn"
          label="届出日"
          value={notifiedOn}
          onChange={setNotifiedOn}
          errors={errors}
          required
        />
      </div>
      <MemberFields
        legend="子"
        prefix="birth-c"
        index={0}
        member={child}
        errors={errors}
        onChange={setChild}
      />
      <div className="actions">
        <button type="submit">確認へ進む</button>
      </div>
    </form>
  );
}
