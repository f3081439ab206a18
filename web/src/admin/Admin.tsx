/**
 * 職員管理: the staff of this municipality (never any secret), creating an account (its TOTP secret is
 * shown once, here, and kept nowhere), granting and revoking permissions, unlocking, disabling, the open
 * sessions with an action to end one, and registering this browser as a terminal.
 */
import { useCallback, useEffect, useState } from 'react';
import { call, messageOf } from '../api.js';
import type { AreaProps } from '../areas.js';
import { formatJst } from '../audit/labels.js';
import { NewStaff } from './NewStaff.js';
import { PermissionBoxes } from './PermissionBoxes.js';
import { Terminals } from './Terminals.js';
import { permissionLabel } from './permissions.js';
import '../audit/audit.css';

export interface Staff {
  staffId: string;
  lgCode: string;
  loginName: string;
  displayName: string;
  familyName: string;
  address: string | null;
  permissions: string[];
  failedAttempts: number;
  locked: boolean;
  disabled: boolean;
  createdAt: string;
  createdBy: string;
}

interface SessionView {
  sessionId: string;
  staffId: string;
  loginName: string;
  state: 'pending' | 'active' | 'ended';
  terminalId: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

const SESSION_STATE: Record<SessionView['state'], string> = {
  pending: '確認コード待ち',
  active: 'ログイン中',
  ended: '終了',
};

function stateOf(s: Staff): string {
  if (s.disabled) return '無効';
  if (s.locked) return `ロック中（失敗${s.failedAttempts}回）`;
  return s.failedAttempts > 0 ? `有効（失敗${s.failedAttempts}回）` : '有効';
}

export function Admin({ session }: AreaProps) {
  const [staff, setStaff] = useState<Staff[] | undefined>();
  const [sessions, setSessions] = useState<SessionView[] | undefined>();
  const [editing, setEditing] = useState<{ staffId: string; permissions: Set<string> } | undefined>();
  const [disabling, setDisabling] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const reload = useCallback(async () => {
    try {
      const [s, ss] = await Promise.all([
        call<Staff[]>('GET', '/api/staff'),
        call<SessionView[]>('GET', '/api/sessions'),
      ]);
      setStaff(s);
      setSessions(ss);
    } catch (e) {
      setError(messageOf(e));
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  /** Runs one administrative act, then shows its message and reloads the lists. */
  const act = async (work: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      await work();
      setNotice(done);
      await reload();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const path = (s: Staff, action: string) => `/api/staff/${encodeURIComponent(s.staffId)}/${action}`;

  const savePermissions = (s: Staff, next: Set<string>) => {
    const grant = [...next].filter((p) => !s.permissions.includes(p));
    const revoke = s.permissions.filter((p) => !next.has(p));
    if (grant.length === 0 && revoke.length === 0) {
      setEditing(undefined);
      return;
    }
    void act(async () => {
      if (grant.length > 0)
        await call('POST', path(s, 'permissions/grant'), { body: { permissions: grant } });
      if (revoke.length > 0)
        await call('POST', path(s, 'permissions/revoke'), { body: { permissions: revoke } });
      setEditing(undefined);
    }, `${s.displayName}（${s.loginName}）の権限を変更しました。`);
  };

  const editingStaff = editing && staff?.find((s) => s.staffId === editing.staffId);

  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">職員管理</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}

      <h2 id="staff-title">職員の一覧</h2>
      <p>
        <button type="button" onClick={() => setCreating(true)} disabled={creating}>
          職員を登録
        </button>
      </p>
      {creating && (
        <NewStaff
          onClose={() => setCreating(false)}
          onCreated={(s) => {
            setNotice(`${s.displayName}（${s.loginName}）を登録しました。`);
            void reload();
          }}
        />
      )}
      {staff && (
        <table className="results staff-table" aria-labelledby="staff-title">
          <thead>
            <tr>
              <th scope="col">ログイン名</th>
              <th scope="col">表示名</th>
              <th scope="col">職員ID</th>
              <th scope="col">権限</th>
              <th scope="col">状態</th>
              <th scope="col">操作</th>
            </tr>
          </thead>
          <tbody>
            {staff.map((s) => (
              <tr key={s.staffId} className={s.disabled ? 'removed' : undefined}>
                <td>{s.loginName}</td>
                <td>{s.displayName}</td>
                <td className="mono">{s.staffId}</td>
                <td>
                  {s.permissions.length === 0
                    ? '（なし）'
                    : s.permissions.map((p) => (
                        <span key={p} className="badge">
                          {permissionLabel(p)}
                        </span>
                      ))}
                </td>
                <td>{stateOf(s)}</td>
                <td className="actions-cell">
                  {!s.disabled && (
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy}
                      aria-label={`${s.loginName} の権限を変更`}
                      onClick={() => setEditing({ staffId: s.staffId, permissions: new Set(s.permissions) })}
                    >
                      権限を変更
                    </button>
                  )}
                  {s.locked && !s.disabled && (
                    <button
                      type="button"
                      disabled={busy}
                      aria-label={`${s.loginName} のロックを解除`}
                      onClick={() =>
                        void act(
                          () => call('POST', path(s, 'unlock')),
                          `${s.displayName}（${s.loginName}）のロックを解除しました。`,
                        )
                      }
                    >
                      ロック解除
                    </button>
                  )}
                  {!s.disabled && s.staffId !== session.staffId && disabling !== s.staffId && (
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy}
                      aria-label={`${s.loginName} を無効化`}
                      onClick={() => setDisabling(s.staffId)}
                    >
                      無効化
                    </button>
                  )}
                  {disabling === s.staffId && (
                    <span role="group" aria-label={`${s.loginName} の無効化の確認`}>
                      無効化すると元に戻せず、ログイン中のセッションも終了します。
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() =>
                          void act(async () => {
                            await call('POST', path(s, 'disable'));
                            setDisabling(undefined);
                          }, `${s.displayName}（${s.loginName}）を無効にしました。`)
                        }
                      >
                        無効化する
                      </button>
                      <button type="button" className="secondary" onClick={() => setDisabling(undefined)}>
                        やめる
                      </button>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {editing && editingStaff && (
        <form
          className="panel"
          aria-label={`${editingStaff.loginName} の権限`}
          onSubmit={(e) => {
            e.preventDefault();
            savePermissions(editingStaff, editing.permissions);
          }}
        >
          <PermissionBoxes
            idPrefix="edit-permission"
            legend={`${editingStaff.displayName}（${editingStaff.loginName}）の権限`}
            value={editing.permissions}
            onChange={(permissions) => setEditing({ ...editing, permissions })}
          />
          <button type="submit" disabled={busy}>
            権限を保存
          </button>
          <button type="button" className="secondary" onClick={() => setEditing(undefined)}>
            やめる
          </button>
        </form>
      )}

      <h2 id="sessions-title">ログイン中のセッション</h2>
      {sessions &&
        (sessions.length === 0 ? (
          <p>ログイン中のセッションはありません。</p>
        ) : (
          <table className="results" aria-labelledby="sessions-title">
            <thead>
              <tr>
                <th scope="col">ログイン名</th>
                <th scope="col">端末</th>
                <th scope="col">状態</th>
                <th scope="col">開始（日本時間）</th>
                <th scope="col">最終操作</th>
                <th scope="col">有効期限</th>
                <th scope="col">操作</th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.sessionId}>
                  <td>{s.loginName}</td>
                  <td>{s.terminalId}</td>
                  <td>{SESSION_STATE[s.state]}</td>
                  <td>{formatJst(s.createdAt)}</td>
                  <td>{formatJst(s.lastSeenAt)}</td>
                  <td>{formatJst(s.expiresAt)}</td>
                  <td>
                    <button
                      type="button"
                      className={s.staffId === session.staffId ? 'secondary' : undefined}
                      disabled={busy}
                      aria-label={`${s.loginName} のセッション（端末 ${s.terminalId}）を終了`}
                      onClick={() =>
                        void act(
                          () => call('POST', `/api/sessions/${encodeURIComponent(s.sessionId)}/end`),
                          `${s.loginName} のセッションを終了しました。`,
                        )
                      }
                    >
                      終了
                    </button>
                    {s.staffId === session.staffId && <span className="hint">（自分）</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      <Terminals />
    </section>
  );
}
