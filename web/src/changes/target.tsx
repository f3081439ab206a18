/**
 * The persons an existing-person change applies to: the clerk enters a 宛名番号, the screen loads the
 * person's current household and takes the edit lock (排他) on the persons it will change. A lock held by
 * another staff member leaves the screen read-only with a message. Locks are released on cancel and when
 * the form closes; a committed change releases them on the server.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, call, messageOf, query, type SignedIn } from '../api.js';
import type { SearchHit, SearchResult } from '../types.js';
import { TextField, type Errors } from './fields.js';

export const LOCKED_MESSAGE = '他の職員が編集中です。参照のみ可能です。';

async function releaseLock(session: SignedIn, personNo: string): Promise<void> {
  // `call` speaks GET and POST only; the release is a DELETE with the same CSRF header.
  await fetch(`/api/residents/${encodeURIComponent(personNo)}/edit-lock`, {
    method: 'DELETE',
    headers: { accept: 'application/json', 'x-csrf-token': session.csrfToken },
    credentials: 'same-origin',
    cache: 'no-store',
  }).catch(() => undefined);
}

export interface Target {
  person: SearchHit;
  /** The current members of the person's household, head first. */
  household: SearchHit[];
  readOnly: boolean;
}

/** Loads a person and locks either that person or the whole household. */
export function useTarget(session: SignedIn, scope: 'person' | 'household') {
  const [target, setTarget] = useState<Target | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const locked = useRef<string[]>([]);

  const release = useCallback(async () => {
    const nos = locked.current;
    locked.current = [];
    await Promise.all(nos.map((no) => releaseLock(session, no)));
  }, [session]);

  useEffect(() => () => void release(), [release]);

  const load = async (personNo: string) => {
    setBusy(true);
    setError(undefined);
    await release();
    setTarget(undefined);
    try {
      const found = await call<SearchResult>(
        'GET',
        `/api/residents${query({ personNo, status: 'current' })}`,
      );
      const person = found.hits.find((h) => h.personNo === personNo) ?? found.hits[0];
      if (!person) {
        setError('この宛名番号の住民（現在の住民）は見つかりません。宛名番号を確認してください。');
        return;
      }
      const hh = await call<SearchResult>(
        'GET',
        `/api/residents${query({ householdNo: person.householdNo, status: 'current', pageSize: 100 })}`,
      );
      const household = [...hh.hits].sort(
        (a, b) => Number(b.relationship === '世帯主') - Number(a.relationship === '世帯主'),
      );
      let readOnly = false;
      for (const no of scope === 'person' ? [person.personNo] : household.map((h) => h.personNo)) {
        try {
          await call('POST', `/api/residents/${encodeURIComponent(no)}/edit-lock`);
          locked.current.push(no);
        } catch (e) {
          if (e instanceof ApiError && e.code === 'LOCKED_BY_OTHER') {
            readOnly = true;
            await release();
            break;
          }
          throw e;
        }
      }
      setTarget({ person, household, readOnly });
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    await release();
    setTarget(undefined);
    setError(undefined);
  };

  return { target, error, busy, load, cancel };
}

interface PickerProps {
  id: string;
  state: ReturnType<typeof useTarget>;
}

/** The 宛名番号 entry and what it found: the person, the household, the lock. */
export function TargetPicker({ id, state }: PickerProps) {
  const [personNo, setPersonNo] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const no = personNo.normalize('NFKC').trim();
    if (!no) {
      setErrors({ [`${id}-personNo`]: '宛名番号を入力してください。' });
      return;
    }
    setErrors({});
    void state.load(no);
  };
  const t = state.target;
  return (
    <div className="change-target">
      {!t ? (
        <form onSubmit={submit} aria-label="対象者の呼び出し">
          <TextField
            id={`${id}-personNo`}
            label="対象者の宛名番号"
            value={personNo}
            onChange={setPersonNo}
            errors={errors}
            required
            inputMode="numeric"
            hint="住民検索で確認した宛名番号を入力し、呼び出すと編集を開始します（他の職員は参照のみになります）。"
          />
          <button type="submit" disabled={state.busy}>
            対象者を呼び出す
          </button>
        </form>
      ) : (
        <div>
          <FocusOnMount>
            対象者: <strong>{t.person.name}</strong>（宛名番号 {t.person.personNo}・世帯番号{' '}
            {t.person.householdNo}・{t.person.address}）
            <button type="button" className="secondary" onClick={() => void state.cancel()}>
              {t.readOnly ? '閉じる' : '編集を取りやめる'}
            </button>
          </FocusOnMount>
          {t.readOnly ? (
            <p className="error" role="alert">
              {LOCKED_MESSAGE}
            </p>
          ) : (
            <p className="notice" role="status">
              編集中です。他の職員にはこの方の記録が参照のみと表示されます。
            </p>
          )}
        </div>
      )}
      {state.error && (
        <p className="error" role="alert">
          {state.error}
        </p>
      )}
    </div>
  );
}

/** A paragraph that takes the focus when it appears, so that keyboard users continue from it. */
function FocusOnMount({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLParagraphElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <p tabIndex={-1} ref={ref} className="change-target-person">
      {children}
    </p>
  );
}
