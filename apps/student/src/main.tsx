// Start: the sign-in callback if this is one, else the stored session; then the app. The service
// worker is registered after the first render so it never delays it.
import { render } from 'preact';
import { App } from './app';
import { Auth, loadConfig } from './lib/auth';
import './styles.css';

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  const auth = new Auth(await loadConfig());
  let authFailed = false;
  if (location.pathname === '/auth/callback') {
    try {
      await auth.completeSignIn();
    } catch (err) { // a stale or replayed callback, the IdP refusing: the student sees a plain message
      console.warn('sign-in callback failed', err);
      authFailed = true;
    }
    history.replaceState(null, '', '/');
  }
  const session = auth.storedProfile();
  render(<App auth={auth} session={session} authFailed={authFailed} />, root);
  if ('serviceWorker' in navigator) void navigator.serviceWorker.register('/sw.js', { scope: '/' });
}

void start();
