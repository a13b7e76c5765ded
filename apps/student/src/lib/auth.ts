// Sign-in: OpenID Connect Authorization Code + PKCE (oidc-client-ts) against the institution's IdP.
// Tokens live in sessionStorage, never localStorage: they last only as long as the tab, are not
// shared with other tabs or sites, and survive a reload (a reload offline keeps the student signed
// in, so entries can still be made; sending waits for a valid token). Renewal is silent, by the
// refresh token (a fetch to the IdP's token endpoint, no iframe); when it fails the app asks the
// student to sign in again and keeps every queued entry.
import { UserManager, WebStorageStateStore, type User } from 'oidc-client-ts';

export interface AuthConfig { authority: string; client_id: string; scope?: string }

export class Auth {
  readonly manager: UserManager;

  constructor(cfg: AuthConfig, origin: string = location.origin) {
    this.manager = new UserManager({
      authority: cfg.authority,
      client_id: cfg.client_id,
      redirect_uri: `${origin}/auth/callback`,
      post_logout_redirect_uri: `${origin}/`,
      response_type: 'code', // PKCE is always on in oidc-client-ts for the code flow
      scope: cfg.scope ?? 'openid profile',
      userStore: new WebStorageStateStore({ store: sessionStorage }),
      stateStore: new WebStorageStateStore({ store: sessionStorage }),
      automaticSilentRenew: true,
      loadUserInfo: false,
      monitorSession: false,
    });
  }

  async user(): Promise<User | null> {
    return this.manager.getUser();
  }

  /** A valid access token, renewed silently if it expired; null when the student must sign in. */
  async token(): Promise<string | null> {
    const user = await this.manager.getUser();
    if (!user) return null;
    if (!user.expired) return user.access_token;
    if (!navigator.onLine || !user.refresh_token) return null;
    try {
      return (await this.manager.signinSilent())?.access_token ?? null;
    } catch {
      return null;
    }
  }

  signIn(lang: string): Promise<void> {
    return this.manager.signinRedirect({ extraQueryParams: { ui_locales: lang } });
  }

  async completeSignIn(): Promise<User> {
    return this.manager.signinRedirectCallback();
  }

  async signOut(): Promise<void> {
    const user = await this.manager.getUser();
    await this.manager.removeUser();
    if (navigator.onLine && user?.id_token) await this.manager.signoutRedirect({ id_token_hint: user.id_token });
  }
}

const CONFIG_KEY = 'werkplek.config';

/** The IdP's address and client, served by the proxy as /config.json (one build for every site).
 *  The last copy is kept (it holds no secret) so the app also starts offline. */
export async function loadConfig(): Promise<AuthConfig> {
  try {
    const res = await fetch('/config.json');
    if (!res.ok) throw new Error(String(res.status));
    const cfg: AuthConfig = await res.json();
    localStorage.setItem(CONFIG_KEY, JSON.stringify(cfg));
    return cfg;
  } catch (err) {
    const kept = localStorage.getItem(CONFIG_KEY);
    if (kept) return JSON.parse(kept) as AuthConfig;
    throw err;
  }
}
