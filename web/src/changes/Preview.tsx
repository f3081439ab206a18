/**
 * The records a change would write, from the server's dry run (`POST /api/changes/…/preview`): what the
 * clerk checks before committing. Hidden items (個人番号, 住民票コード, 本籍, residence status) stay hidden as in
 * the inquiry; numbers of persons and households the change creates are given only at the commit.
 */
import { formatDate, formatFlexDate, MASKED_LABEL, SEX_LABEL } from '../format.js';
import type { MaskableItem, RecordView } from '../types.js';

export interface ChangePreview {
  changeType: string;
  reason: string;
  reasonLabel: string;
  kind: string;
  effectiveDate: string;
  persons: Array<{ entering: boolean; historySeq: number; record: PreviewRecord }>;
  householdNos: string[];
  newHouseholdNos: string[];
}

/** A record as the preview returns it: the inquiry's view, with the items entered by this change. */
export type PreviewRecord = RecordView & {
  foreign?: RecordView['foreign'] & {
    status: { residenceCardNo?: string; certificateNo?: string };
  };
};

const STATUS_LABEL: Record<string, string> = {
  current: '住民',
  movedOut: '転出',
  dead: '死亡',
  missing: '失踪',
  removedExOfficio: '職権消除',
  entryCancelled: '記載取消',
};

const CATEGORY_LABEL: Record<string, string> = {
  midLongTerm: '中長期在留者',
  specialPermanent: '特別永住者',
  temporaryRefuge: '一時庇護許可者',
  provisionalStay: '仮滞在許可者',
  transitionalStay: '経過滞在者',
};

function hidden(item: MaskableItem) {
  return <span className="masked">非表示（{MASKED_LABEL[item]}は入力のとおり記録）</span>;
}

export function ResultingRecords({ preview }: { preview: ChangePreview }) {
  return (
    <section aria-labelledby="preview-title" className="change-preview">
      <h3 id="preview-title">
        登録後の記録（{preview.reasonLabel}・異動日 {formatDate(preview.effectiveDate)}）
      </h3>
      {preview.persons.map((p, i) => (
        <Resulting
          key={`${p.record.personNo}-${i}`}
          person={p}
          newHousehold={preview.newHouseholdNos.includes(p.record.householdNo)}
        />
      ))}
    </section>
  );
}

function Resulting({
  person,
  newHousehold,
}: {
  person: ChangePreview['persons'][number];
  newHousehold: boolean;
}) {
  const r = person.record;
  const name = r.name ? `${r.name.family} ${r.name.given}` : (r.foreign?.latinName ?? '');
  const masked = (item: MaskableItem) => r.masked.includes(item);
  return (
    <article className="preview-person" aria-label={`${name} の登録後の記録`}>
      <h4>
        {name}
        {person.entering ? '（新たに記載）' : `（宛名番号 ${r.personNo}・履歴 ${person.historySeq}）`}
      </h4>
      <dl className="record">
        <dt>氏名</dt>
        <dd>
          {name}（{r.reading.family} {r.reading.given}）
        </dd>
        {r.foreign?.latinName && r.name && (
          <>
            <dt>氏名（英字）</dt>
            <dd>{r.foreign.latinName}</dd>
          </>
        )}
        {r.formerSurname && (
          <>
            <dt>旧氏</dt>
            <dd>
              {r.formerSurname.surname}（{r.formerSurname.reading}）
            </dd>
          </>
        )}
        {r.foreign?.alias && (
          <>
            <dt>通称</dt>
            <dd>{r.foreign.alias.name}</dd>
          </>
        )}
        <dt>生年月日・性別</dt>
        <dd>
          {formatFlexDate(r.birthDate)}・{SEX_LABEL[r.sex]}
        </dd>
        <dt>状態</dt>
        <dd>
          {STATUS_LABEL[r.status] ?? r.status}
          {r.removal && `（${formatDate(r.removal.effectiveDate)} 消除）`}
        </dd>
        <dt>世帯</dt>
        <dd>
          {newHousehold ? '新しい世帯（世帯番号は登録時に採番）' : `世帯番号 ${r.householdNo}`}・続柄{' '}
          {r.relationship}
        </dd>
        <dt>住所</dt>
        <dd>
          {r.address.postalCode && `〒${r.address.postalCode} `}
          {r.address.text} {r.address.katagaki}
        </dd>
        <dt>住民となった日</dt>
        <dd>{formatDate(r.residentSince)}</dd>
        <dt>住所を定めた日</dt>
        <dd>{formatDate(r.addressSetOn)}</dd>
        <dt>届出日</dt>
        <dd>{formatDate(r.notifiedOn)}</dd>
        {r.previousAddress && (
          <>
            <dt>前住所</dt>
            <dd>
              {r.previousAddress.text}
              {r.previousAddress.abroad && '（国外）'}
            </dd>
          </>
        )}
        {r.kind === 'japanese' && (masked('honseki') || r.honseki) && (
          <>
            <dt>本籍・筆頭者</dt>
            <dd>{masked('honseki') ? hidden('honseki') : honsekiOf(r)}</dd>
          </>
        )}
        {r.foreign && (
          <>
            <dt>国籍・地域</dt>
            <dd>{r.foreign.nationality}</dd>
            <dt>外国人住民となった日</dt>
            <dd>{formatDate(r.foreign.foreignResidentSince)}</dd>
            <dt>30条45規定区分</dt>
            <dd>{CATEGORY_LABEL[r.foreign.status.category] ?? r.foreign.status.category}</dd>
            <dt>在留資格等</dt>
            <dd>
              {masked('residenceStatus')
                ? hidden('residenceStatus')
                : [
                    r.foreign.status.residenceStatus,
                    r.foreign.status.periodOfStay,
                    r.foreign.status.expiryDate && `満了 ${formatDate(r.foreign.status.expiryDate)}`,
                    r.foreign.status.residenceCardNo ?? r.foreign.status.certificateNo,
                  ]
                    .filter(Boolean)
                    .join(' / ')}
            </dd>
          </>
        )}
        {(masked('myNumber') || r.myNumber) && (
          <>
            <dt>個人番号</dt>
            <dd>{masked('myNumber') ? hidden('myNumber') : r.myNumber}</dd>
          </>
        )}
        {r.plannedMoveOut && (
          <>
            <dt>転出予定</dt>
            <dd>
              {formatDate(r.plannedMoveOut.plannedDate)} {r.plannedMoveOut.destination.text}
            </dd>
          </>
        )}
        {r.remarks && (
          <>
            <dt>備考</dt>
            <dd>{r.remarks}</dd>
          </>
        )}
      </dl>
    </article>
  );
}

function honsekiOf(r: RecordView): string {
  const h = r.honseki;
  if (!h) return '（記載なし）';
  switch (h.kind) {
    case 'registered':
      return `${h.address}（筆頭者: ${h.familyRegisterHead}）`;
    case 'none':
      return '無籍';
    case 'unknown':
      return '不詳';
  }
}
