import { describe, expect, it, vi } from "vitest";

import { createApi, ifMatch, unwrap } from "./client";
import { ApiError, NetworkError } from "./errors";
import { REFRESH_KEY } from "./session";

const ME = "/api/v1/me";

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
    data,
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": type, ...headers },
  });
}

function problem(status: number, code: string, extra: Record<string, unknown> = {}) {
  return json(status, { type: `https://qd85.vn/problems/${code}`, title: code, status, code, ...extra });
}

/** A fake API: tokens issued by refresh are counted; a request is answered 401 unless it
 * carries the current access token. */
function fakeServer() {
  let current = "access-1";
  let refreshes = 0;
  const seen: Request[] = [];
  const handler = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(`http://x${String(input)}`, init);
    seen.push(request.clone());
    const path = new URL(request.url, "http://x").pathname;
    if (path === "/api/v1/auth/token") {
      const form = new URLSearchParams(await request.text());
      if (form.get("grant_type") === "refresh_token") {
        refreshes += 1;
        await new Promise((r) => setTimeout(r, 5));
        if (form.get("refresh_token") !== `refresh-${refreshes}`) {
          return problem(400, "invalid_grant");
        }
        current = `access-${refreshes + 1}`;
        return json(200, { access_token: current, refresh_token: `refresh-${refreshes + 1}`, expires_in: 900 });
      }
      return json(200, { access_token: current, refresh_token: "refresh-1", expires_in: 900 });
    }
    if (path === "/api/v1/auth/revoke") return json(200, {});
    if (request.headers.get("Authorization") !== `Bearer ${current}`) return problem(401, "unauthorized");
    return json(200, { id: "m1", full_name: "Nguyễn Văn An" });
  });
  return {
    handler,
    seen,
    get refreshes() {
      return refreshes;
    },
    expire() {
      current = `rotated-${Math.random()}`;
    },
  };
}

function makeApi(server: ReturnType<typeof fakeServer>, storage = memoryStorage()) {
  const api = createApi({ baseUrl: "http://x", storage, fetch: server.handler as typeof fetch });
  return { api, storage };
}

describe("bearer auth and refresh", () => {
  it("refreshes once for many concurrent 401s, and every call then succeeds", async () => {
    const server = fakeServer();
    const { api, storage } = makeApi(server);
    await api.signIn("an.nv", "pw");
    // The access token expires: the server now wants the one the refresh will issue.
    api.session.set({ access_token: "stale" });
    const results = await Promise.all(Array.from({ length: 8 }, () => unwrap(api.client.GET(ME))));
    expect(results.every((r) => r.full_name === "Nguyễn Văn An")).toBe(true);
    expect(server.refreshes).toBe(1);
    expect(storage.data.get(REFRESH_KEY)).toBe("refresh-2"); // rotated
    expect(api.session.accessToken).toBe("access-2");
  });

  it("keeps the access token in memory and the refresh token in sessionStorage only", async () => {
    const server = fakeServer();
    const { api, storage } = makeApi(server);
    await api.signIn("an.nv", "pw");
    expect([...storage.data.values()]).toEqual(["refresh-1"]);
    expect(api.session.accessToken).toBe("access-1");
  });

  it("refreshes first after a reload (no access token, a stored refresh token)", async () => {
    const server = fakeServer();
    const { api } = makeApi(server, memoryStorage({ [REFRESH_KEY]: "refresh-1" }));
    await expect(unwrap(api.client.GET(ME))).resolves.toMatchObject({ id: "m1" });
    expect(server.refreshes).toBe(1);
  });

  it("signs out when the refresh token was already used (invalid_grant)", async () => {
    const server = fakeServer();
    const storage = memoryStorage({ [REFRESH_KEY]: "refresh-0-reused" });
    const { api } = makeApi(server, storage);
    const signedOut = vi.fn();
    api.session.subscribe((signedIn, reason) => !signedIn && signedOut(reason));
    api.session.set({ access_token: "stale" });
    const error = await unwrap(api.client.GET(ME)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(signedOut).toHaveBeenCalledWith("expired");
    expect(api.session.signedIn).toBe(false);
    expect(storage.data.has(REFRESH_KEY)).toBe(false);
  });

  it("revokes the refresh token on sign-out", async () => {
    const server = fakeServer();
    const { api } = makeApi(server);
    await api.signIn("an.nv", "pw");
    await api.signOut();
    const revoke = server.seen.find((r) => r.url.endsWith("/auth/revoke"));
    expect(revoke).toBeDefined();
    expect(new URLSearchParams(await revoke?.text()).get("token")).toBe("refresh-1");
    expect(api.session.signedIn).toBe(false);
  });

  it("sends Accept-Language on every request", async () => {
    const server = fakeServer();
    const api = createApi({
      baseUrl: "http://x", storage: memoryStorage(), fetch: server.handler as typeof fetch, language: () => "en",
    });
    await api.signIn("an.nv", "pw");
    await unwrap(api.client.GET(ME));
    expect(server.seen.map((r) => r.headers.get("Accept-Language"))).toEqual(["en", "en"]);
  });
});

describe("problems", () => {
  it("maps errors[].loc onto form fields, with the localised detail for a single field", async () => {
    const error = await ApiError.fromResponse(
      problem(422, "invalid_account_url", {
        detail: "Hãy chọn nền tảng, hoặc nhập đầy đủ liên kết tới tài khoản.",
        errors: [{ loc: ["body", "url"], msg: "Choose the platform", type: "invalid_account_url" }],
      }),
    );
    expect(error.code).toBe("invalid_account_url");
    expect(error.fieldErrors()).toEqual([
      { name: ["url"], message: "Hãy chọn nền tảng, hoặc nhập đầy đủ liên kết tới tài khoản." },
    ]);
  });

  it("keeps each field's own message when several fields are at fault, and skips non-body locs", async () => {
    const error = await ApiError.fromResponse(
      problem(422, "validation_failed", {
        detail: "Dữ liệu không hợp lệ",
        errors: [
          { loc: ["body", "description"], msg: "too short", type: "string_too_short" },
          { loc: ["body", "members", 0, "email"], msg: "bad email", type: "value_error" },
          { loc: ["query", "limit"], msg: "too big", type: "less_than_equal" },
        ],
      }),
    );
    expect(error.fieldErrors()).toEqual([
      { name: ["description"], message: "too short" },
      { name: ["members", 0, "email"], message: "bad email" },
    ]);
  });

  it("reads Retry-After on 429", async () => {
    const error = await ApiError.fromResponse(problem(429, "rate_limited", {}), undefined);
    expect(error.retryAfter).toBeNull();
    const limited = await ApiError.fromResponse(
      new Response(JSON.stringify({ code: "rate_limited", title: "x", status: 429 }), {
        status: 429,
        headers: { "Content-Type": "application/problem+json", "Retry-After": "42" },
      }),
    );
    expect(limited.isRateLimited).toBe(true);
    expect(limited.retryAfter).toBe(42);
  });
});

describe("idempotency", () => {
  it("sends the same Idempotency-Key on retry, and a new one for the next filing", async () => {
    const keys: (string | null)[] = [];
    let calls = 0;
    const handler = vi.fn(async (input: RequestInfo | URL) => {
      const request = input as Request;
      if (request.url.endsWith("/auth/token")) return json(200, { access_token: "a", refresh_token: "r" });
      keys.push(request.headers.get("Idempotency-Key"));
      calls += 1;
      if (calls <= 2) throw new TypeError("Failed to fetch"); // the answer is lost, twice
      return json(201, { id: `report-${calls}` });
    });
    let n = 0;
    const api = createApi({
      baseUrl: "http://x", storage: memoryStorage(), fetch: handler as typeof fetch, newKey: () => `key-${++n}`,
    });
    await api.signIn("an.nv", "pw");
    const body = { url: "https://example.com/a", category: "fake_news" as const, description: "x", proposed_action: "refute" as const };
    const file = () =>
      api.idempotency.run("report", body, (key) =>
        unwrap(api.client.POST("/api/v1/reports", { body, params: { header: { "Idempotency-Key": key } } })),
      );
    // First try: the network fails, the automatic retry fails too; the user clicks again.
    await expect(file()).rejects.toBeInstanceOf(NetworkError);
    await expect(file()).resolves.toMatchObject({ id: "report-3" });
    expect(keys).toEqual(["key-1", "key-1", "key-1"]);
    // Filed: the next report is a new intent with a new key.
    await file().catch(() => undefined);
    expect(keys[3]).toBe("key-2");
  });

  it("gives a changed body a new key", () => {
    let n = 0;
    const api = createApi({ storage: memoryStorage(), newKey: () => `k${++n}` });
    expect(api.idempotency.keyFor("s", { a: 1 })).toBe("k1");
    expect(api.idempotency.keyFor("s", { a: 1 })).toBe("k1");
    expect(api.idempotency.keyFor("s", { a: 2 })).toBe("k2");
  });
});

describe("conditional writes", () => {
  it("sends If-Match from the version read, and a 412 is a stale error", async () => {
    const handler = vi.fn(async (input: RequestInfo | URL) => {
      const request = input as Request;
      if (request.url.endsWith("/auth/token")) return json(200, { access_token: "a", refresh_token: "r" });
      expect(request.headers.get("If-Match")).toBe('"3"');
      return problem(412, "version_mismatch", { detail: "Bản ghi đã bị người khác thay đổi." });
    });
    const api = createApi({ baseUrl: "http://x", storage: memoryStorage(), fetch: handler as typeof fetch });
    await api.signIn("an.nv", "pw");
    const error = await unwrap(
      api.client.POST("/api/v1/accounts/{account_id}/close", {
        params: { path: { account_id: "a1" }, header: { "If-Match": ifMatch({ version: 3 }) } },
        body: { declare_none: false },
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).isStale).toBe(true);
    expect((error as ApiError).code).toBe("version_mismatch");
  });
});
