import createClient from "openapi-fetch";

import { ApiError } from "./errors";
import { createAuthFetch, TOKEN_PATH } from "./http";
import { IdempotencyKeys } from "./idempotency";
import type { paths } from "./schema";
import { Session, type Tokens } from "./session";

export interface ApiOptions {
  baseUrl?: string;
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  language?: () => string;
  fetch?: typeof fetch;
  newKey?: () => string;
}

/** The one client of the API: typed calls generated from openapi/openapi.json, and the
 * API's conventions (auth, refresh, problems, idempotency, If-Match, paging) in one place. */
export function createApi(options: ApiOptions = {}) {
  const baseUrl = options.baseUrl ?? "";
  const session = new Session(options.storage ?? sessionStorage);
  const language = options.language ?? (() => "vi");
  const auth = createAuthFetch({ session, baseUrl, language, fetch: options.fetch });
  const client = createClient<paths>({ baseUrl, fetch: auth.fetch });
  const idempotency = new IdempotencyKeys(options.newKey);

  async function signIn(username: string, password: string): Promise<void> {
    const response = await auth.plain(TOKEN_PATH, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username, password }),
    });
    if (!response.ok) throw await ApiError.fromResponse(response);
    session.set((await response.json()) as Tokens);
  }

  /** Revoke the refresh token on the server, then forget both tokens. */
  async function signOut(): Promise<void> {
    const token = session.refreshToken;
    session.clear("signed_out");
    if (token) {
      await auth
        .plain("/api/v1/auth/revoke", {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ token, token_type_hint: "refresh_token" }),
        })
        .catch(() => undefined); // offline: the token still dies with the tab
    }
  }

  return { client, session, auth, idempotency, signIn, signOut, baseUrl };
}

export type Api = ReturnType<typeof createApi>;

/** An openapi-fetch result, as the data or a thrown ApiError. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw await ApiError.fromResponse(response, error ?? undefined);
  return data as T;
}

/** Like unwrap, with the response (status 200 vs 201, ETag, Location). */
export async function unwrapResponse<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T; response: Response }> {
  const { data, error, response } = await call;
  if (!response.ok) throw await ApiError.fromResponse(response, error ?? undefined);
  return { data: data as T, response };
}

/** The `If-Match` value for a resource read with `version`: the API's ETag is the quoted
 * version (`"3"`), as its If-Match pattern documents. Prefer the ETag header when the
 * resource was read alone. */
export function ifMatch(resource: { version: number }): string {
  return `"${resource.version}"`;
}

/** Cursor pages (`{items, next_cursor}`) for TanStack Query's infinite queries. */
export function nextCursor(page: { next_cursor?: string | null }): string | undefined {
  return page.next_cursor ?? undefined;
}
