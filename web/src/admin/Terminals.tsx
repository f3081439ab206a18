/**
 * 端末の登録: which terminal this browser is, registering it as a named terminal (the server sets a
 * long-lived HttpOnly cookie; nothing goes to browser storage), and the municipality's terminals with an
 * action to revoke one. Logs and certificate issue numbers then carry the terminal's id.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { call, messageOf } from '../api.js';
import { formatJst } from '../audit/labels.js';

interface Terminal {
  terminalId: string;
  name: string;
  registeredBy: string;
  registeredAt: string;
  revokedAt: string | null;
}

export interface ThisTerminal {
  registered: boolean;
  terminalId: string;
  name: string | null;
}

export function Terminals() {
  const [terminals, setTerminals] = useState<Terminal[] | undefined>();
  const [current, setCurrent] = useState<ThisTerminal | undefined>();
  const [terminalId, setTerminalId] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const reload = useCallback(async () => {
    try {
      const [list, me] = await Promise.all([
        call<Terminal[]>('GET', '/api/terminals'),
        call<ThisTerminal>('GET', '/api/auth/terminal'),
      ]);
      setTerminals(list);
      setCurrent(me);
    } catch (e) {
      setError(messageOf(e));
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

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

  const register = (e: FormEvent) => {
    e.preventDefault();
    const id = terminalId.trim();
    void act(async () => {
      await call('POST', '/api/terminals', { body: { terminalId: id, name: name.trim() } });
      setTerminalId('');
      setName('');
    }, `このブラウザを端末 ${id}（${name.trim()}）として登録しました。`);
  };

  return (
    <section aria-labelledby="terminals-title">
      <h2 id="terminals-title">端末の登録</h2>
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
      {current && (
        <p data-testid="this-terminal">
          {current.registered
            ? `このブラウザは端末 ${current.terminalId}（${current.name ?? ''}）として登録されています。`
            : 'このブラウザは端末として登録されていません（ログ・発行番号の端末は unknown になります）。'}
        </p>
      )}
      <form className="panel" aria-label="このブラウザを端末として登録" onSubmit={register}>
        <div className="field">
          <label htmlFor="terminal-id">端末ID（半角英数字・_・-）</label>
          <input
            id="terminal-id"
            name="terminalId"
            autoComplete="off"
            required
            maxLength={40}
            pattern="[A-Za-z0-9_\-]{1,40}"
            value={terminalId}
            onChange={(e) => setTerminalId(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="terminal-name">端末名（設置場所など）</label>
          <input
            id="terminal-name"
            name="terminalName"
            autoComplete="off"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <button type="submit" disabled={busy}>
          このブラウザを端末として登録
        </button>
      </form>
      {terminals && terminals.length > 0 && (
        <table className="results terminal-table" aria-labelledby="terminals-title">
          <thead>
            <tr>
              <th scope="col">端末ID</th>
              <th scope="col">端末名</th>
              <th scope="col">登録（日本時間）</th>
              <th scope="col">状態</th>
              <th scope="col">操作</th>
            </tr>
          </thead>
          <tbody>
            {terminals.map((t) => (
              <tr key={`${t.terminalId}-${t.registeredAt}`} className={t.revokedAt ? 'removed' : undefined}>
                <td className="mono">{t.terminalId}</td>
                <td>{t.name}</td>
                <td>{formatJst(t.registeredAt)}</td>
                <td>{t.revokedAt ? `廃止（${formatJst(t.revokedAt)}）` : '有効'}</td>
                <td>
                  {!t.revokedAt && (
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy}
                      aria-label={`端末 ${t.terminalId} を廃止`}
                      onClick={() =>
                        void act(
                          () => call('POST', `/api/terminals/${encodeURIComponent(t.terminalId)}/revoke`),
                          `端末 ${t.terminalId} を廃止しました。`,
                        )
                      }
                    >
                      廃止
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
