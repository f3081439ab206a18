/**
 * The staff UI's shell: sign-in, then search and inquiry. All state is in memory; a lost session (timeout,
 * logout elsewhere) clears it and returns to the sign-in screen with a message.
 */
import { useCallback, useEffect, useState } from 'react';
import { call, setCsrfToken, setSessionLostHandler, type SignedIn } from './api.js';
import { Inquiry } from './Inquiry.js';
import { Login } from './Login.js';
import { Search, type SearchState } from './Search.js';
import { Admin } from './admin/Admin.js';
import { areasOf, type AreaId, type AreaProps } from './areas.js';
import { Audit } from './audit/Audit.js';
import { Certificates } from './certificates/Certificates.js';
import { ChangeEntry } from './changes/ChangeEntry.js';
import { Protection } from './protection/Protection.js';

type View = { screen: AreaId } | { screen: 'inquiry'; personNo: string };

const AREA_SCREENS: Record<Exclude<AreaId, 'search'>, (props: AreaProps) => React.JSX.Element> = {
  changes: ChangeEntry,
  certificates: Certificates,
  protection: Protection,
  audit: Audit,
  admin: Admin,
};

export function App() {
  const [session, setSession] = useState<SignedIn | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [view, setView] = useState<View>({ screen: 'search' });
  const [search, setSearch] = useState<SearchState | undefined>();

  const clear = useCallback((message: string | undefined) => {
    setCsrfToken(undefined);
    setSession(undefined);
    setSearch(undefined);
    setView({ screen: 'search' });
    setNotice(message);
  }, []);

  useEffect(() => {
    setSessionLostHandler((e) =>
      clear(
        e.code === 'SESSION_EXPIRED'
          ? 'セッションの有効期限が切れました。もう一度ログインしてください。'
          : 'ログインしていません。もう一度ログインしてください。',
      ),
    );
    return () => setSessionLostHandler(undefined);
  }, [clear]);

  const signedIn = (s: SignedIn) => {
    setCsrfToken(s.csrfToken);
    setSession(s);
    setNotice(undefined);
  };

  const logout = async () => {
    try {
      await call('POST', '/api/auth/logout');
    } catch {
      // The session may already be gone; the screen is cleared either way.
    }
    clear('ログアウトしました。');
  };

  if (!session) return <Login notice={notice} onSignedIn={signedIn} />;

  const areas = areasOf(session);
  const open = (personNo: string) => setView({ screen: 'inquiry', personNo });
  const Area = view.screen !== 'search' && view.screen !== 'inquiry' ? AREA_SCREENS[view.screen] : undefined;

  return (
    <div className="app">
      <header className="app-header">
        <span className="app-title">Jumin 住民記録システム</span>
        <span className="app-user">{session.displayName}</span>
        <button type="button" onClick={() => void logout()}>
          ログアウト
        </button>
      </header>
      <nav className="app-nav" aria-label="業務メニュー">
        {areas.map((a) => (
          <button
            key={a.id}
            type="button"
            aria-current={view.screen === a.id ? 'page' : undefined}
            onClick={() => setView({ screen: a.id })}
          >
            {a.label}
          </button>
        ))}
      </nav>
      <main>
        {Area ? (
          <Area session={session} onOpenPerson={open} />
        ) : view.screen === 'search' ? (
          <Search session={session} state={search} onState={setSearch} onOpen={open} />
        ) : view.screen === 'inquiry' ? (
          <Inquiry
            key={view.personNo}
            session={session}
            personNo={view.personNo}
            onBack={() => setView({ screen: 'search' })}
            onOpen={open}
          />
        ) : null}
      </main>
    </div>
  );
}
