/** ログイン: login name and password, then the 確認コード of the authenticator app (TOTP). */
import { useEffect, useState, type FormEvent } from 'react';
import type { ThisTerminal } from './admin/Terminals.js';
import { call, messageOf, type SignedIn } from './api.js';

interface Props {
  notice: string | undefined;
  onSignedIn: (s: SignedIn) => void;
}

export function Login({ notice, onSignedIn }: Props) {
  const [step, setStep] = useState<'password' | 'code'>('password');
  const [loginName, setLoginName] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [terminal, setTerminal] = useState<ThisTerminal | undefined>();

  useEffect(() => {
    call<ThisTerminal>('GET', '/api/auth/terminal', { signingIn: true }).then(setTerminal, () => undefined);
  }, []);

  const submitPassword = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await call('POST', '/api/auth/login', { body: { loginName, password }, signingIn: true });
      setPassword('');
      setStep('code');
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const submitCode = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const s = await call<SignedIn>('POST', '/api/auth/second-factor', { body: { code }, signingIn: true });
      onSignedIn(s);
    } catch (err) {
      setError(messageOf(err));
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <h1>Jumin 住民記録システム</h1>
      <h2>ログイン</h2>
      {terminal && (
        <p
          className={terminal.registered ? 'terminal' : 'terminal unregistered'}
          data-testid="login-terminal"
        >
          {terminal.registered
            ? `端末: ${terminal.name ?? ''}（${terminal.terminalId}）`
            : 'この端末は登録されていません（端末ID: unknown）。操作の記録には端末が「unknown」と残ります。管理者に端末の登録を依頼してください。'}
        </p>
      )}
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
      {step === 'password' ? (
        <form onSubmit={(e) => void submitPassword(e)}>
          <div className="field">
            <label htmlFor="login-name">ログイン名</label>
            <input
              id="login-name"
              name="loginName"
              autoComplete="username"
              autoFocus
              required
              value={loginName}
              onChange={(e) => setLoginName(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="login-password">パスワード</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <button type="submit" disabled={busy}>
            次へ
          </button>
        </form>
      ) : (
        <form onSubmit={(e) => void submitCode(e)}>
          <p>認証アプリに表示されている6桁の確認コードを入力してください。</p>
          <div className="field">
            <label htmlFor="login-code">確認コード</label>
            <input
              id="login-code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="\d{6}"
              maxLength={6}
              autoFocus
              required
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </div>
          <button type="submit" disabled={busy}>
            ログイン
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setStep('password');
              setError(undefined);
            }}
          >
            戻る
          </button>
        </form>
      )}
    </main>
  );
}
