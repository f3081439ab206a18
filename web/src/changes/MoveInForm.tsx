/** 転入 (and 出生, which enters one child into an existing household): the members and where they go. */
import { useState, type FormEvent } from 'react';
import { SEX_LABEL } from '../format.js';
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
}

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
  };
}

const SEX_OPTIONS = [
  ['', '選択してください'],
  ['male', '男'],
  ['female', '女'],
] as const;

function checkMember(errors: Errors, p: string, m: Member): void {
  requireText(errors, `${p}-family`, m.family, '氏');
  requireText(errors, `${p}-readingFamily`, m.readingFamily, 'ふりがな（氏）');
  requireDate(errors, `${p}-birthDate`, m.birthDate, '生年月日', true);
  if (!m.sex) errors[`${p}-sex`] = '性別を選んでください。';
  requireText(errors, `${p}-relationship`, m.relationship, '続柄');
  checkDigits(errors, `${p}-myNumber`, m.myNumber, '個人番号', 12);
  checkDigits(errors, `${p}-residentCode`, m.residentCode, '住民票コード', 11);
}

function memberBody(m: Member) {
  return {
    name: { family: m.family.trim(), given: m.given.trim() },
    reading: { family: m.readingFamily.trim(), given: m.readingGiven.trim() },
    birthDate: m.birthDate.trim(),
    sex: m.sex,
    relationship: m.relationship.trim(),
    myNumber: digitsOf(m.myNumber),
    residentCode: digitsOf(m.residentCode),
  };
}

function memberSummary(m: Member): string {
  return [
    `${m.family} ${m.given}（${m.readingFamily} ${m.readingGiven}）`,
    `${m.relationship}`,
    m.sex ? SEX_LABEL[m.sex] : '',
    `生年月日 ${shownDate(m.birthDate)}`,
    m.myNumber.trim() ? '個人番号あり' : '',
    m.residentCode.trim() ? '住民票コードあり' : '',
  ]
    .filter(Boolean)
    .join('・');
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
        <TextField
          id={`${p}-family`}
          label="氏"
          value={member.family}
          onChange={set('family')}
          errors={errors}
          required
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

interface FormProps {
  onReady: (draft: Draft) => void;
}

export function MoveInForm({ onReady }: FormProps) {
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
        members: members.map(memberBody),
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
      names: members.map((m) => `${m.family} ${m.given}`.trim()),
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

export function BirthForm({ onReady }: FormProps) {
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
        child: memberBody(child),
      },
      summary: [
        ['世帯番号', householdNo.trim()],
        ['異動日（出生日）', shownDate(child.birthDate)],
        ['届出日', shownDate(notifiedOn)],
        ['子', memberSummary(child)],
      ],
      names: [`${child.family} ${child.given}`.trim()],
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
