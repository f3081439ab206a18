/**
 * Changes to persons already on the register: 転居, 転出, 世帯変更 (分離・合併・世帯主変更), 死亡, 修正. Each first calls up the
 * person (taking the edit lock) and is read-only while another staff member holds it. 異動の取消し needs
 * only the change number.
 */
import { useState, type FormEvent } from 'react';
import type { SignedIn } from '../api.js';
import type { SearchHit } from '../types.js';
import type { Draft } from './draft.js';
import {
  DateField,
  RelationshipList,
  SelectField,
  TextField,
  focusFirstError,
  optional,
  requireDate,
  requireText,
  shownDate,
  type Errors,
} from './fields.js';
import { TargetPicker, useTarget } from './target.js';

export interface FormProps {
  session: SignedIn;
  onReady: (draft: Draft) => void;
}

export function hasErrors(errs: Errors, set: (e: Errors) => void): boolean {
  set(errs);
  return focusFirstError(errs);
}

/** Checkboxes choosing members of the household, each optionally with a new 続柄. */
function MemberChoice({
  id,
  legend,
  household,
  chosen,
  onChosen,
  relationships,
  onRelationships,
  errors,
  fixed,
}: {
  id: string;
  legend: string;
  /** Everyone takes part (the choice is shown, not made). */
  fixed?: boolean;
  household: SearchHit[];
  chosen: string[];
  onChosen: (nos: string[]) => void;
  relationships?: Record<string, string>;
  onRelationships?: (r: Record<string, string>) => void;
  errors: Errors;
}) {
  return (
    <fieldset className="member" aria-describedby={errors[id] ? `${id}-error` : undefined}>
      <legend>{legend}</legend>
      {household.map((h) => (
        <div key={h.personNo} className="member-choice">
          <input
            type="checkbox"
            id={`${id}-${h.personNo}`}
            checked={chosen.includes(h.personNo)}
            disabled={fixed}
            onChange={(e) =>
              onChosen(e.target.checked ? [...chosen, h.personNo] : chosen.filter((n) => n !== h.personNo))
            }
          />
          <label htmlFor={`${id}-${h.personNo}`}>
            {h.name}（{h.relationship}・宛名番号 {h.personNo}）
          </label>
          {relationships && onRelationships && chosen.includes(h.personNo) && (
            <TextField
              id={`${id}-rel-${h.personNo}`}
              label={`${h.name} の新しい続柄`}
              value={relationships[h.personNo] ?? ''}
              onChange={(v) => onRelationships({ ...relationships, [h.personNo]: v })}
              errors={errors}
              list="change-relationships"
              required
            />
          )}
        </div>
      ))}
      {errors[id] && (
        <small id={`${id}-error`} className="field-error">
          {errors[id]}
        </small>
      )}
    </fieldset>
  );
}

function relationshipsOf(id: string, errs: Errors, nos: string[], rel: Record<string, string>) {
  return nos.map((personNo) => {
    const relationship = (rel[personNo] ?? '').trim();
    if (!relationship) errs[`${id}-rel-${personNo}`] = '新しい続柄を入力してください。';
    return { personNo, relationship };
  });
}

function namesOf(household: SearchHit[], nos: string[]): string {
  return household
    .filter((h) => nos.includes(h.personNo))
    .map((h) => `${h.name}（${h.personNo}）`)
    .join('、');
}

export function MoveWithinForm({ session, onReady }: FormProps) {
  const t = useTarget(session, 'household');
  const [chosen, setChosen] = useState<string[]>([]);
  const [mode, setMode] = useState<'same' | 'new'>('same');
  const [rel, setRel] = useState<Record<string, string>>({});
  const [address, setAddress] = useState('');
  const [katagaki, setKatagaki] = useState('');
  const [effectiveDate, setEffectiveDate] = useState('');
  const [notifiedOn, setNotifiedOn] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const target = t.target;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const errs: Errors = {};
    if (chosen.length === 0) errs['within-members'] = '転居する方を選んでください。';
    requireText(errs, 'within-address', address, '新しい住所');
    requireDate(errs, 'within-effectiveDate', effectiveDate, '異動日（転居日）');
    requireDate(errs, 'within-notifiedOn', notifiedOn, '届出日');
    const relationships = mode === 'new' ? relationshipsOf('within-members', errs, chosen, rel) : [];
    if (hasErrors(errs, setErrors)) return;
    onReady({
      path: 'move-within',
      title: '転居',
      body: {
        personNos: chosen,
        address: { text: address.trim(), katagaki: optional(katagaki) },
        household: mode === 'new' ? { mode: 'new', relationships } : { mode: 'same' },
        effectiveDate: effectiveDate.trim(),
        notifiedOn: notifiedOn.trim(),
      },
      summary: [
        ['転居する方', namesOf(target.household, chosen)],
        ['世帯', mode === 'new' ? '新しい世帯を設ける' : '世帯はそのまま'],
        ...relationships.map((r): [string, string] => [`新しい続柄（${r.personNo}）`, r.relationship]),
        ['新しい住所', `${address.trim()} ${katagaki.trim()}`.trim()],
        ['異動日', shownDate(effectiveDate)],
        ['届出日', shownDate(notifiedOn)],
      ],
    });
  };

  return (
    <>
      <TargetPicker id="within" state={t} />
      {target && !target.readOnly && (
        <form onSubmit={submit} noValidate aria-label="転居の届出">
          <RelationshipList />
          <MemberChoice
            id="within-members"
            legend="転居する方（世帯全員または一部）"
            household={target.household}
            chosen={chosen}
            onChosen={setChosen}
            relationships={mode === 'new' ? rel : undefined}
            onRelationships={setRel}
            errors={errors}
          />
          <div className="change-grid">
            <SelectField
              id="within-mode"
              label="世帯"
              value={mode}
              onChange={(v) => setMode(v as 'same' | 'new')}
              options={[
                ['same', '世帯全員で転居（世帯はそのまま）'],
                ['new', '一部の方が新しい世帯を設ける'],
              ]}
              errors={errors}
            />
            <TextField
              id="within-address"
              label="新しい住所"
              value={address}
              onChange={setAddress}
              errors={errors}
              required
            />
            <TextField
              id="within-katagaki"
              label="方書（任意）"
              value={katagaki}
              onChange={setKatagaki}
              errors={errors}
            />
            <DateField
              id="within-effectiveDate"
              label="異動日（転居日）"
              value={effectiveDate}
              onChange={setEffectiveDate}
              errors={errors}
              required
            />
            <DateField
              id="within-notifiedOn"
              label="届出日"
              value={notifiedOn}
              onChange={setNotifiedOn}
              errors={errors}
              required
            />
          </div>
          <button type="submit">確認へ進む</button>
        </form>
      )}
    </>
  );
}

export function MoveOutForm({ session, onReady }: FormProps) {
  const t = useTarget(session, 'household');
  const [chosen, setChosen] = useState<string[]>([]);
  const [plannedDate, setPlannedDate] = useState('');
  const [notifiedOn, setNotifiedOn] = useState('');
  const [destination, setDestination] = useState('');
  const [abroad, setAbroad] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const target = t.target;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const errs: Errors = {};
    if (chosen.length === 0) errs['out-members'] = '転出する方を選んでください。';
    requireDate(errs, 'out-plannedDate', plannedDate, '転出予定日');
    requireDate(errs, 'out-notifiedOn', notifiedOn, '届出日');
    requireText(errs, 'out-destination', destination, '転出先');
    if (hasErrors(errs, setErrors)) return;
    onReady({
      path: 'move-out',
      title: abroad ? '国外への転出' : '転出',
      body: {
        personNos: chosen,
        plannedDate: plannedDate.trim(),
        notifiedOn: notifiedOn.trim(),
        destination: { text: destination.trim(), abroad },
      },
      summary: [
        ['転出する方', namesOf(target.household, chosen)],
        ['転出予定日', shownDate(plannedDate)],
        ['届出日', shownDate(notifiedOn)],
        ['転出先', `${destination.trim()}${abroad ? '（国外）' : ''}`],
      ],
    });
  };

  return (
    <>
      <TargetPicker id="out" state={t} />
      {target && !target.readOnly && (
        <form onSubmit={submit} noValidate aria-label="転出の届出">
          <MemberChoice
            id="out-members"
            legend="転出する方"
            household={target.household}
            chosen={chosen}
            onChosen={setChosen}
            errors={errors}
          />
          <div className="change-grid">
            <DateField
              id="out-plannedDate"
              label="転出予定日"
              value={plannedDate}
              onChange={setPlannedDate}
              errors={errors}
              required
            />
            <DateField
              id="out-notifiedOn"
              label="届出日"
              value={notifiedOn}
              onChange={setNotifiedOn}
              errors={errors}
              required
            />
            <TextField
              id="out-destination"
              label="転出先"
              value={destination}
              onChange={setDestination}
              errors={errors}
              required
            />
            <div className="field checkbox">
              <input
                type="checkbox"
                id="out-abroad"
                checked={abroad}
                onChange={(e) => setAbroad(e.target.checked)}
              />
              <label htmlFor="out-abroad">国外への転出</label>
            </div>
          </div>
          <button type="submit">確認へ進む</button>
        </form>
      )}
    </>
  );
}

type HouseholdAction = 'split' | 'merge' | 'head';

const HOUSEHOLD_TITLE: Record<HouseholdAction, string> = {
  split: '世帯分離',
  merge: '世帯合併',
  head: '世帯主変更',
};

export function HouseholdChangeForm({ session, onReady }: FormProps) {
  const t = useTarget(session, 'household');
  const [action, setAction] = useState<HouseholdAction>('split');
  const [chosen, setChosen] = useState<string[]>([]);
  const [rel, setRel] = useState<Record<string, string>>({});
  const [intoHouseholdNo, setIntoHouseholdNo] = useState('');
  const [effectiveDate, setEffectiveDate] = useState('');
  const [notifiedOn, setNotifiedOn] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const target = t.target;
  const everyone = target?.household.map((h) => h.personNo) ?? [];
  const nos = action === 'split' ? chosen : everyone;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const errs: Errors = {};
    if (action === 'merge') requireText(errs, 'hh-into', intoHouseholdNo, '合併先の世帯番号');
    if (nos.length === 0) errs['hh-members'] = '世帯を分離する方を選んでください。';
    const relationships = relationshipsOf('hh-members', errs, nos, rel);
    requireDate(errs, 'hh-effectiveDate', effectiveDate, '異動日');
    if (notifiedOn.trim()) requireDate(errs, 'hh-notifiedOn', notifiedOn, '届出日');
    if (hasErrors(errs, setErrors)) return;
    const common = {
      effectiveDate: effectiveDate.trim(),
      notifiedOn: optional(notifiedOn),
    };
    const householdNo = target.person.householdNo;
    const into = intoHouseholdNo.normalize('NFKC').trim();
    onReady({
      path: action === 'split' ? 'household-split' : action === 'merge' ? 'household-merge' : 'head-change',
      title: HOUSEHOLD_TITLE[action],
      body:
        action === 'split'
          ? { ...common, householdNo, members: relationships }
          : action === 'merge'
            ? { ...common, fromHouseholdNo: householdNo, intoHouseholdNo: into, relationships }
            : { ...common, householdNo, relationships },
      summary: [
        [action === 'merge' ? '合併元の世帯番号' : '世帯番号', householdNo],
        ...(action === 'merge' ? [['合併先の世帯番号', into] as [string, string]] : []),
        ...relationships.map((r): [string, string] => [
          `${namesOf(target.household, [r.personNo])}`,
          `新しい続柄: ${r.relationship}`,
        ]),
        ['異動日', shownDate(effectiveDate)],
        ['届出日', notifiedOn.trim() ? shownDate(notifiedOn) : '（職権）'],
      ],
    });
  };

  return (
    <>
      <TargetPicker id="hh" state={t} />
      {target && !target.readOnly && (
        <form onSubmit={submit} noValidate aria-label="世帯変更の届出">
          <RelationshipList />
          <SelectField
            id="hh-action"
            label="変更の内容"
            value={action}
            onChange={(v) => setAction(v as HouseholdAction)}
            options={[
              ['split', '世帯分離（一部の方が新しい世帯を設ける）'],
              ['merge', '世帯合併（この世帯の全員が他の世帯に加わる）'],
              ['head', '世帯主変更（全員の新しい続柄）'],
            ]}
            errors={errors}
          />
          {action === 'merge' && (
            <TextField
              id="hh-into"
              label="合併先の世帯番号"
              value={intoHouseholdNo}
              onChange={setIntoHouseholdNo}
              errors={errors}
              required
              inputMode="numeric"
              hint="加わる先の世帯の世帯番号。続柄は合併先の世帯主との続柄を入力します。"
            />
          )}
          <MemberChoice
            id="hh-members"
            legend={
              action === 'split'
                ? '新しい世帯に移る方と、その世帯での続柄'
                : action === 'merge'
                  ? '合併する世帯員全員と、合併先の世帯主との続柄'
                  : '世帯員全員の新しい続柄'
            }
            household={target.household}
            chosen={nos}
            onChosen={setChosen}
            fixed={action !== 'split'}
            relationships={rel}
            onRelationships={setRel}
            errors={errors}
          />
          <div className="change-grid">
            <DateField
              id="hh-effectiveDate"
              label="異動日"
              value={effectiveDate}
              onChange={setEffectiveDate}
              errors={errors}
              required
            />
            <DateField
              id="hh-notifiedOn"
              label="届出日（職権の場合は空欄）"
              value={notifiedOn}
              onChange={setNotifiedOn}
              errors={errors}
            />
          </div>
          <button type="submit">確認へ進む</button>
        </form>
      )}
    </>
  );
}

export function DeathForm({ session, onReady }: FormProps) {
  const t = useTarget(session, 'person');
  const [deathDate, setDeathDate] = useState('');
  const [effectiveDate, setEffectiveDate] = useState('');
  const [notifiedOn, setNotifiedOn] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const target = t.target;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const errs: Errors = {};
    requireDate(errs, 'death-deathDate', deathDate, '死亡日', true);
    requireDate(errs, 'death-effectiveDate', effectiveDate, '異動日');
    if (notifiedOn.trim()) requireDate(errs, 'death-notifiedOn', notifiedOn, '届出日');
    if (hasErrors(errs, setErrors)) return;
    onReady({
      path: 'death',
      title: '死亡',
      body: {
        personNo: target.person.personNo,
        deathDate: deathDate.trim(),
        effectiveDate: effectiveDate.trim(),
        notifiedOn: optional(notifiedOn),
      },
      summary: [
        ['対象者', `${target.person.name}（${target.person.personNo}）`],
        ['死亡日', shownDate(deathDate)],
        ['異動日', shownDate(effectiveDate)],
        ['届出日', notifiedOn.trim() ? shownDate(notifiedOn) : '（職権）'],
      ],
    });
  };

  return (
    <>
      <TargetPicker id="death" state={t} />
      {target && !target.readOnly && (
        <form onSubmit={submit} noValidate aria-label="死亡の届出">
          <div className="change-grid">
            <DateField
              id="death-deathDate"
              label="死亡日"
              value={deathDate}
              onChange={setDeathDate}
              errors={errors}
              required
              uncertain
            />
            <DateField
              id="death-effectiveDate"
              label="異動日"
              value={effectiveDate}
              onChange={setEffectiveDate}
              errors={errors}
              required
            />
            <DateField
              id="death-notifiedOn"
              label="届出日（職権の場合は空欄）"
              value={notifiedOn}
              onChange={setNotifiedOn}
              errors={errors}
            />
          </div>
          <button type="submit">確認へ進む</button>
        </form>
      )}
    </>
  );
}

const CORRECTION_KINDS = [
  ['minorCorrection', '軽微修正'],
  ['clericalErrorCorrection', '誤記修正'],
  ['exOfficioCorrection', '職権修正'],
] as const;

export function CorrectionForm({ session, onReady }: FormProps) {
  const t = useTarget(session, 'person');
  const [kind, setKind] = useState<string>('minorCorrection');
  const [f, setF] = useState({
    family: '',
    given: '',
    readingFamily: '',
    readingGiven: '',
    birthDate: '',
    sex: '',
    address: '',
    katagaki: '',
    remarks: '',
  });
  const [effectiveDate, setEffectiveDate] = useState('');
  const [notifiedOn, setNotifiedOn] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const target = t.target;
  const set = (k: keyof typeof f) => (v: string) => setF({ ...f, [k]: v });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const errs: Errors = {};
    const patch: Record<string, unknown> = {};
    const rows: Array<[string, string]> = [];
    if (f.family.trim() || f.given.trim()) {
      requireText(errs, 'corr-family', f.family, '氏（修正後）');
      patch.name = { family: f.family.trim(), given: f.given.trim() };
      rows.push(['氏名（修正後）', `${f.family.trim()} ${f.given.trim()}`]);
    }
    if (f.readingFamily.trim() || f.readingGiven.trim()) {
      requireText(errs, 'corr-readingFamily', f.readingFamily, 'ふりがな（氏）');
      patch.reading = { family: f.readingFamily.trim(), given: f.readingGiven.trim() };
      rows.push(['ふりがな（修正後）', `${f.readingFamily.trim()} ${f.readingGiven.trim()}`]);
    }
    if (f.birthDate.trim()) {
      patch.birthDate = f.birthDate.trim();
      rows.push(['生年月日（修正後）', shownDate(f.birthDate)]);
    }
    if (f.sex) {
      patch.sex = f.sex;
      rows.push(['性別（修正後）', f.sex === 'male' ? '男' : '女']);
    }
    if (f.address.trim()) {
      patch.address = { text: f.address.trim(), katagaki: optional(f.katagaki) };
      rows.push(['住所（修正後）', `${f.address.trim()} ${f.katagaki.trim()}`.trim()]);
    }
    if (f.remarks.trim()) {
      patch.remarks = f.remarks.trim();
      rows.push(['備考（修正後）', f.remarks.trim()]);
    }
    if (rows.length === 0) errs['corr-family'] = '修正する項目を一つ以上入力してください。';
    requireDate(errs, 'corr-effectiveDate', effectiveDate, '異動日');
    if (notifiedOn.trim()) requireDate(errs, 'corr-notifiedOn', notifiedOn, '届出日');
    if (hasErrors(errs, setErrors)) return;
    onReady({
      path: 'correction',
      title: CORRECTION_KINDS.find(([k]) => k === kind)?.[1] ?? '修正',
      body: {
        personNo: target.person.personNo,
        kind,
        patch,
        effectiveDate: effectiveDate.trim(),
        notifiedOn: optional(notifiedOn),
      },
      summary: [
        ['対象者', `${target.person.name}（${target.person.personNo}）`],
        ...rows,
        ['異動日', shownDate(effectiveDate)],
        ['届出日', notifiedOn.trim() ? shownDate(notifiedOn) : '（職権）'],
      ],
    });
  };

  return (
    <>
      <TargetPicker id="corr" state={t} />
      {target && !target.readOnly && (
        <form onSubmit={submit} noValidate aria-label="記載事項の修正">
          <p className="hint">修正する項目だけを入力してください（空欄の項目は変わりません）。</p>
          <div className="change-grid">
            <SelectField
              id="corr-kind"
              label="修正の種類"
              value={kind}
              onChange={setKind}
              options={CORRECTION_KINDS}
              errors={errors}
            />
            <TextField
              id="corr-family"
              label="氏"
              value={f.family}
              onChange={set('family')}
              errors={errors}
            />
            <TextField id="corr-given" label="名" value={f.given} onChange={set('given')} errors={errors} />
            <TextField
              id="corr-readingFamily"
              label="ふりがな（氏）"
              value={f.readingFamily}
              onChange={set('readingFamily')}
              errors={errors}
            />
            <TextField
              id="corr-readingGiven"
              label="ふりがな（名）"
              value={f.readingGiven}
              onChange={set('readingGiven')}
              errors={errors}
            />
            <DateField
              id="corr-birthDate"
              label="生年月日"
              value={f.birthDate}
              onChange={set('birthDate')}
              errors={errors}
              uncertain
            />
            <SelectField
              id="corr-sex"
              label="性別"
              value={f.sex}
              onChange={set('sex')}
              options={[
                ['', '変更しない'],
                ['male', '男'],
                ['female', '女'],
              ]}
              errors={errors}
            />
            <TextField
              id="corr-address"
              label="住所"
              value={f.address}
              onChange={set('address')}
              errors={errors}
            />
            <TextField
              id="corr-katagaki"
              label="方書"
              value={f.katagaki}
              onChange={set('katagaki')}
              errors={errors}
            />
            <TextField
              id="corr-remarks"
              label="備考"
              value={f.remarks}
              onChange={set('remarks')}
              errors={errors}
            />
            <DateField
              id="corr-effectiveDate"
              label="異動日"
              value={effectiveDate}
              onChange={setEffectiveDate}
              errors={errors}
              required
            />
            <DateField
              id="corr-notifiedOn"
              label="届出日（職権の場合は空欄）"
              value={notifiedOn}
              onChange={setNotifiedOn}
              errors={errors}
            />
          </div>
          <button type="submit">確認へ進む</button>
        </form>
      )}
    </>
  );
}

export function CancellationForm({ onReady }: Omit<FormProps, 'session'>) {
  const [changeId, setChangeId] = useState('');
  const [notifiedOn, setNotifiedOn] = useState('');
  const [notes, setNotes] = useState('');
  const [errors, setErrors] = useState<Errors>({});

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Errors = {};
    const id = changeId.normalize('NFKC').trim();
    if (!/^[1-9]\d*$/.test(id))
      errs['cancel-changeId'] = '取り消す異動の異動番号（数字）を入力してください。';
    if (notifiedOn.trim()) requireDate(errs, 'cancel-notifiedOn', notifiedOn, '届出日');
    if (hasErrors(errs, setErrors)) return;
    onReady({
      path: 'cancellation',
      title: '異動の取消し',
      body: { changeId: Number(id), notifiedOn: optional(notifiedOn), notes: optional(notes) },
      summary: [
        ['取り消す異動の番号', id],
        ['届出日', notifiedOn.trim() ? shownDate(notifiedOn) : '（職権）'],
        ['理由・備考', notes.trim() || '（なし）'],
      ],
    });
  };

  return (
    <form onSubmit={submit} noValidate aria-label="異動の取消し">
      <div className="change-grid">
        <TextField
          id="cancel-changeId"
          label="取り消す異動の異動番号"
          value={changeId}
          onChange={setChangeId}
          errors={errors}
          required
          inputMode="numeric"
        />
        <DateField
          id="cancel-notifiedOn"
          label="届出日（職権の場合は空欄）"
          value={notifiedOn}
          onChange={setNotifiedOn}
          errors={errors}
        />
        <TextField
          id="cancel-notes"
          label="理由・備考（任意）"
          value={notes}
          onChange={setNotes}
          errors={errors}
        />
      </div>
      <button type="submit">確認へ進む</button>
    </form>
  );
}
