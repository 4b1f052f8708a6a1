// The app shell: the session (token, `me`), the hash routes, the header and navigation,
// and the sign-in and sign-up pages.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, asApiError, auth, gql, onSessionEnded } from './api';
import { Login, MeQuery, Register, type Me } from './ops';
import { AppCtx, ErrorBanner, Notice, PageTitle, TextField, fieldError, go, useAction, useApp, useRoute, type Ctx } from './ui';
import { ResumePage } from './resume';
import { MatchDetailPage, MatchesPage } from './matches';
import { AccountPage, PreferencesPage } from './settings';
import { AdminPage } from './admin';

export function App() {
  const route = useRoute();
  const [token, setToken] = useState(auth.token);
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [flash, setFlash] = useState<string | null>(null);

  useEffect(() => auth.subscribe(setToken), []);

  const signOut = useCallback((message?: string) => {
    auth.set(null);
    setMe(null);
    setFlash(message ?? 'You are signed out.');
    go('/signin');
  }, []);

  useEffect(() => onSessionEnded(() => signOut('Your session ended. Please sign in again.')), [signOut]);

  const refreshMe = useCallback(async () => {
    if (!auth.token) {
      setMe(null);
      return;
    }
    try {
      const d = await gql(MeQuery, {});
      setLoadError(null);
      if (d.me) setMe(d.me);
      else signOut('Your session ended. Please sign in again.');
    } catch (e) {
      const err = asApiError(e);
      if (err.code === 'UNAUTHENTICATED') signOut('Your session ended. Please sign in again.');
      else setLoadError(err);
    }
  }, [signOut]);

  useEffect(() => {
    if (token) refreshMe();
    else setMe(null);
  }, [token]);

  // While the category is being chosen, ask again every second.
  const pending = me?.categoryAssignment.status === 'PENDING';
  useEffect(() => {
    if (!pending) return;
    const t = setInterval(refreshMe, 1000);
    return () => clearInterval(t);
  }, [pending, refreshMe]);

  // Move focus to the page's heading when the route changes (keyboard and screen readers).
  const first = useRef(true);
  const routeKey = route.join('/');
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h = document.querySelector<HTMLElement>('main h1');
    h?.focus({ preventScroll: false });
  }, [routeKey]);

  // Flash messages go away on the next navigation after being shown.
  const shownAt = useRef(routeKey);
  useEffect(() => {
    if (flash && shownAt.current !== routeKey) setFlash(null);
    shownAt.current = routeKey;
  }, [routeKey]);
  const showFlash = useCallback((m: string) => {
    shownAt.current = location.hash.replace(/^#\/?/, '');
    setFlash(m);
  }, []);

  const section = route[0] ?? '';
  const signedIn = !!token && !!me;

  // Redirects between the signed-out and signed-in parts.
  useEffect(() => {
    // The hash as it is now (a sign-in may just have moved it, before `hashchange` fired).
    const now = location.hash.replace(/^#\/?/, '').split('/')[0];
    if (me === null && !token && now !== 'signin' && now !== 'signup') go('/signin');
    if (signedIn && (now === 'signin' || now === 'signup' || now === '')) go('/matches');
  }, [me, token, section, signedIn]);

  let body;
  if (loadError && !me) {
    body = (
      <section>
        <PageTitle>Job Collector</PageTitle>
        <ErrorBanner error={loadError} />
        <button type="button" onClick={refreshMe}>
          Try again
        </button>
      </section>
    );
  } else if (token && me === undefined) {
    body = <p role="status">Loading…</p>;
  } else if (!signedIn) {
    body = <AuthPage mode={section === 'signup' ? 'signup' : 'signin'} onSignedIn={(m) => setMe(m)} />;
  } else {
    const ctx: Ctx = { me: me!, setMe, refreshMe, flash: showFlash, signOut };
    body = (
      <AppCtx.Provider value={ctx}>
        {loadError && <ErrorBanner error={loadError} />}
        <Routed route={route} />
      </AppCtx.Provider>
    );
  }

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <div class="top-inner">
          <a class="brand" href={signedIn ? '#/matches' : '#/signin'}>
            Job Collector
          </a>
          {signedIn && (
            <nav aria-label="Main">
              <ul class="nav">
                <NavLink href="#/matches" active={section === 'matches'}>Matches</NavLink>
                <NavLink href="#/resume" active={section === 'resume'}>Resume</NavLink>
                <NavLink href="#/preferences" active={section === 'preferences'}>Preferences</NavLink>
                <NavLink href="#/account" active={section === 'account'}>Account</NavLink>
                {me!.role === 'ADMIN' && <NavLink href="#/admin" active={section === 'admin'}>Admin</NavLink>}
              </ul>
            </nav>
          )}
          {signedIn && (
            <button type="button" class="secondary" onClick={() => signOut()}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {flash && <Notice>{flash}</Notice>}
        {body}
      </main>
    </>
  );
}

function NavLink({ href, active, children }: { href: string; active: boolean; children: string }) {
  return (
    <li>
      <a href={href} aria-current={active ? 'page' : undefined}>
        {children}
      </a>
    </li>
  );
}

function Routed({ route }: { route: string[] }) {
  const { me } = useApp();
  switch (route[0]) {
    case 'resume':
      return <ResumePage />;
    case 'matches':
      return route[1] ? <MatchDetailPage jobId={route[1]} /> : <MatchesPage />;
    case 'preferences':
      return <PreferencesPage />;
    case 'account':
      return <AccountPage />;
    case 'admin':
      if (me.role !== 'ADMIN') {
        return (
          <section>
            <PageTitle>Admin</PageTitle>
            <p>This part is for administrators only.</p>
          </section>
        );
      }
      return <AdminPage tab={route[1] ?? 'categories'} />;
    default:
      return <MatchesPage />;
  }
}

function AuthPage({ mode, onSignedIn }: { mode: 'signin' | 'signup'; onSignedIn(me: Me): void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run, setError } = useAction();
  useEffect(() => setError(null), [mode]);

  async function submit(e: Event) {
    e.preventDefault();
    const res = await run(async () => {
      if (mode === 'signup') return (await gql(Register, { email, password })).register;
      return (await gql(Login, { email, password })).login;
    });
    if (res) {
      auth.set(res.token);
      onSignedIn(res.user);
      go(mode === 'signup' || !res.user.resumeUpdatedAt ? '/resume' : '/matches');
    }
  }

  const signup = mode === 'signup';
  const emailErr = fieldError(error, 'email');
  const passErr = fieldError(error, 'password');
  return (
    <section class="auth card">
      <PageTitle>{signup ? 'Create your account' : 'Sign in'}</PageTitle>
      <p class="lead">
        {signup
          ? 'Job Collector reads your resume, finds open positions that fit it and explains each match.'
          : 'Welcome back. Sign in to see your matches.'}
      </p>
      <form onSubmit={submit} noValidate>
        <TextField label="Email" type="email" autoComplete="email" required value={email} onValue={setEmail} error={emailErr} />
        <TextField
          label="Password"
          type="password"
          autoComplete={signup ? 'new-password' : 'current-password'}
          required
          value={password}
          onValue={setPassword}
          error={passErr}
          hint={signup ? 'At least 10 characters.' : undefined}
        />
        <ErrorBanner error={error} placed={['email', 'password']} />
        <button type="submit" disabled={busy}>
          {signup ? 'Sign up' : 'Sign in'}
        </button>
      </form>
      <p class="switch">
        {signup ? (
          <>
            Already have an account? <a href="#/signin">Sign in instead</a>
          </>
        ) : (
          <>
            New here? <a href="#/signup">Create an account</a>
          </>
        )}
      </p>
    </section>
  );
}
