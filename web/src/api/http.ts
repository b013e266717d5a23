import { ApiError, NetworkError } from "./errors";
import type { Session, Tokens } from "./session";

export interface AuthFetchOptions {
  session: Session;
  /** The API origin ("" for the same origin). */
  baseUrl: string;
  /** The user's language, sent as Accept-Language on every request. */
  language: () => string;
  fetch?: typeof fetch;
}

export interface AuthFetch {
  /** A fetch for openapi-fetch: bearer token, Accept-Language, one refresh on 401. */
  fetch: (input: Request) => Promise<Response>;
  /** Exchange the stored refresh token for new tokens; concurrent callers share one
   * request. Resolves false when there is no session any more (signed out). */
  refresh: () => Promise<boolean>;
  /** A valid access token, refreshing first after a page reload. */
  accessToken: () => Promise<string | null>;
  /** The un-authenticated fetch, with Accept-Language (sign-in, revoke). */
  plain: (path: string, init: RequestInit) => Promise<Response>;
}

export const TOKEN_PATH = "/api/v1/auth/token";

export function createAuthFetch(options: AuthFetchOptions): AuthFetch {
  const { session, baseUrl, language } = options;
  const base = options.fetch ?? ((input: Request) => fetch(input));
  let refreshing: Promise<boolean> | null = null;

  async function plain(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("Accept-Language", language());
    try {
      return await base(new Request(baseUrl + path, { ...init, headers }));
    } catch (err) {
      throw new NetworkError(err);
    }
  }

  function refresh(): Promise<boolean> {
    refreshing ??= doRefresh().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function doRefresh(): Promise<boolean> {
    const token = session.refreshToken;
    if (!token) {
      session.clear("expired");
      return false;
    }
    const response = await plain(TOKEN_PATH, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: token }),
    });
    if (response.ok) {
      session.set((await response.json()) as Tokens);
      return true;
    }
    const error = await ApiError.fromResponse(response);
    if (error.code === "invalid_grant" || response.status === 401) {
      // Reused (the family is now revoked), expired or revoked: the session is over.
      session.clear("expired");
      return false;
    }
    throw error; // 429, 503: the session may still be good; let the caller show it
  }

  async function accessToken(): Promise<string | null> {
    if (session.accessToken) return session.accessToken;
    if (session.refreshToken && (await refresh())) return session.accessToken;
    return null;
  }

  async function send(template: Request, token: string | null): Promise<Response> {
    const request = template.clone();
    request.headers.set("Accept-Language", language());
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    try {
      return await base(request);
    } catch (err) {
      throw new NetworkError(err);
    }
  }

  async function authFetch(input: Request): Promise<Response> {
    const token = await accessToken();
    const response = await send(input, token);
    if (response.status !== 401 || token === null) return response;
    // Another request may have refreshed already while this one was in flight.
    const fresh = session.accessToken !== token ? true : await refresh();
    if (!fresh || !session.accessToken) return response;
    return send(input, session.accessToken);
  }

  return { fetch: authFetch, refresh, accessToken, plain };
}
