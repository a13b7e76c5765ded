// Sign-in: OpenID Connect Authorization Code + PKCE (oidc-client-ts) against the institution's IdP.
// Tokens live in sessionStorage, never localStorage: they last only as long as the tab, are not
// shared with other tabs or sites, and survive a reload (a reload offline keeps the student signed
// in, so entries can still be made; sending waits for a valid token). Renewal is silent, by the
// refresh token (a fetch to the IdP's token endpoint, no iframe); when it fails the app asks the
// student to sign in again and keeps every queued entry.
import type { User, UserManager } from 'oidc-client-ts';

export interface AuthConfig { authority: string; client_id: string; scope?: string }

/** oidc-client-ts is loaded when first needed (sign-in, the callback, a token), not before the
 *  first screen: the stored session is read directly, so the app shell renders at once. */
export class Auth {
  private mgr: Promise<UserManager> | null = null;

  constructor(private cfg: AuthConfig, private origin: string = location.origin) {}

  manager(): Promise<UserManager> {
    this.mgr ??= import('oidc-client-ts').then(({ UserManager: Manager, WebStorageStateStore }) => new Manager({
      authority: this.cfg.authority,
      client_id: this.cfg.client_id,
      redirect_uri: `${this.origin}/auth/callback`,
      post_logout_redirect_uri: `${this.origin}/`,
      response_type: 'code', // PKCE is always on in oidc-client-ts for the code flow
      scope: this.cfg.scope ?? 'openid profile',
      userStore: new WebStorageStateStore({ store: sessionStorage }),
      stateStore: new WebStorageStateStore({ store: sessionStorage }),
      automaticSilentRenew: true,
      loadUserInfo: false,
      monitorSession: false,
    }));
    return this.mgr;
  }

  /** The signed-in student as oidc-client-ts stored it (its key and format), without loading it. */
  storedProfile(): { sub: string; name: string } | null {
    const raw = sessionStorage.getItem(`oidc.user:${this.cfg.authority}:${this.cfg.client_id}`);
    if (!raw) return null;
    try {
      const p = (JSON.parse(raw) as { profile?: Record<string, unknown> }).profile;
      return p?.sub ? { sub: String(p.sub), name: String(p.given_name ?? p.name ?? p.sub) } : null;
    } catch {
      return null;
    }
  }

  async user(): Promise<User | null> {
    return (await this.manager()).getUser();
  }

  /** A valid access token, renewed silently if it expired; null when the student must sign in. */
  async token(): Promise<string | null> {
    const manager = await this.manager();
    const user = await manager.getUser();
    if (!user) return null;
    if (!user.expired) return user.access_token;
    if (!navigator.onLine || !user.refresh_token) return null;
    try {
      return (await manager.signinSilent())?.access_token ?? null;
    } catch {
      return null;
    }
  }

  async signIn(lang: string): Promise<void> {
    await (await this.manager()).signinRedirect({ extraQueryParams: { ui_locales: lang } });
  }

  async completeSignIn(): Promise<User> {
    return (await this.manager()).signinRedirectCallback();
  }

  async signOut(): Promise<void> {
    const manager = await this.manager();
    const user = await manager.getUser();
    await manager.removeUser();
    if (navigator.onLine && user?.id_token) await manager.signoutRedirect({ id_token_hint: user.id_token });
    else location.assign('/');
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
