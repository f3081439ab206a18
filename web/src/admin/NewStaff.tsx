/**
 * 職員の登録: login name, names, an initial password and permissions. The answer carries the TOTP secret
 * and its otpauth URL, shown here once (to set up the staff member's authenticator) and then forgotten.
 */
import { useState, type FormEvent } from 'react';
import { call, messageOf } from '../api.js';
import type { Staff } from './Admin.js';
import { PermissionBoxes } from './PermissionBoxes.js';

interface CreatedStaff {
  staff: Staff;
  totpSecret: string;
  otpauthUrl: string;
}

interface Form {
  loginName: string;
  displayName: string;
  familyName: string;
  address: string;
  password: string;
}

const EMPTY: Form = { loginName: '', displayName: '', familyName: '', address: '', password: '' };

interface Props {
  onClose: () => void;
  onCreated: (s: Staff) => void;
}

export function NewStaff({ onClose, onCreated }: Props) {
  const [form, setForm] = useState<Form>(EMPTY);
  const [permissions, setPermissions] = useState<Set<string>>(new Set());
  const [created, setCreated] = useState<CreatedStaff | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await call<CreatedStaff>('POST', '/api/staff', {
        body: {
          loginName: form.loginName.trim(),
          displayName: form.displayName.trim(),
          familyName: form.familyName.trim(),
          address: form.address.trim() || undefined,
          password: form.password,
          permissions: [...permissions],
        },
      });
      setForm(EMPTY);
      setPermissions(new Set());
      setCreated(r);
      onCreated(r.staff);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <section className="panel" aria-labelledby="created-title">
        <h3 id="created-title">
          {created.staff.displayName}（{created.staff.loginName}）の二要素認証の設定
        </h3>
        <p className="notice">
          この秘密鍵はこの画面でのみ表示されます。本人の認証アプリに登録したら、画面を閉じてください。
        </p>
        <dl className="record">
          <dt>TOTP 秘密鍵</dt>
          <dd className="mono">{created.totpSecret}</dd>
          <dt>otpauth URL</dt>
          <dd className="mono break">{created.otpauthUrl}</dd>
        </dl>
        <button
          type="button"
          autoFocus
          onClick={() => {
            setCreated(undefined);
            onClose();
          }}
        >
          登録を終えて閉じる
        </button>
      </section>
    );
  }

  const field = (key: keyof Form, label: string, type = 'text', hint?: string) => (
    <div className="field">
      <label htmlFor={`new-staff-${key}`}>{label}</label>
      <input
        id={`new-staff-${key}`}
        type={type}
        autoComplete={type === 'password' ? 'new-password' : 'off'}
        required={key !== 'address'}
        value={form[key]}
        aria-describedby={hint ? `new-staff-${key}-hint` : undefined}
        onChange={(e) => setForm({ ...form, [key]: e.target.value })}
      />
      {hint && (
        <small id={`new-staff-${key}-hint`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );

  return (
    <form className="panel" onSubmit={(e) => void submit(e)} aria-labelledby="new-staff-title">
      <h3 id="new-staff-title">職員の登録</h3>
      {field('loginName', 'ログイン名', 'text', '半角英数字と . _ - の2〜40文字')}
      {field('displayName', '表示名')}
      {field('familyName', '氏（監視用：職員と同じ氏・住所の記録の参照を検知）')}
      {field('address', '住所（任意・監視用）')}
      {field(
        'password',
        '初期パスワード',
        'password',
        '12文字以上（16文字以上のパスフレーズは文字種の制限なし）',
      )}
      <PermissionBoxes
        idPrefix="new-permission"
        legend="権限"
        value={permissions}
        onChange={setPermissions}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        登録する
      </button>
      <button type="button" className="secondary" onClick={onClose}>
        やめる
      </button>
    </form>
  );
}
