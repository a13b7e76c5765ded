// Start: the sign-in callback if this is one, else the stored session; then the app. The service
// worker is registered after the first render so it never delays it.
import { render } from 'preact';
import { App } from './app';
import { Auth, loadConfig } from './lib/auth';
import './styles.css';

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  const auth = new Auth(await loadConfig());
  let authError: string | undefined;
  if (location.pathname === '/auth/callback') {
    try {
      await auth.completeSignIn();
    } catch (err) {
      authError = String(err);
    }
    history.replaceState(null, '', '/');
  }
  const session = auth.storedProfile();
  render(<App auth={auth} session={session} authError={authError} />, root);
  if ('serviceWorker' in navigator) void navigator.serviceWorker.register('/sw.js', { scope: '/' });
}

void start();
