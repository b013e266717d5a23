/** Where the tokens live: the access token in memory only, the refresh token in
 * sessionStorage (never localStorage: it dies with the tab), rotated on every use. */
export const REFRESH_KEY = "qd85.refresh";

export interface Tokens {
  access_token: string;
  refresh_token?: string | null;
}

export type SignOutReason = "signed_out" | "expired";
type Listener = (signedIn: boolean, reason?: SignOutReason) => void;

export class Session {
  private access: string | null = null;
  private listeners = new Set<Listener>();

  constructor(private readonly storage: Pick<Storage, "getItem" | "setItem" | "removeItem">) {}

  get accessToken(): string | null {
    return this.access;
  }

  get refreshToken(): string | null {
    return this.storage.getItem(REFRESH_KEY);
  }

  /** Signed in, or able to become so with the stored refresh token (after a reload). */
  get signedIn(): boolean {
    return this.access !== null || this.refreshToken !== null;
  }

  set(tokens: Tokens): void {
    this.access = tokens.access_token;
    if (tokens.refresh_token) this.storage.setItem(REFRESH_KEY, tokens.refresh_token);
    this.emit(true);
  }

  clear(reason: SignOutReason = "signed_out"): void {
    const was = this.signedIn;
    this.access = null;
    this.storage.removeItem(REFRESH_KEY);
    if (was) this.emit(false, reason);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(signedIn: boolean, reason?: SignOutReason): void {
    for (const l of this.listeners) l(signedIn, reason);
  }
}
