import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "./errors";
import type { AuthFetch } from "./http";
import { uploadWithProgress } from "./upload";

interface Sent {
  headers: Record<string, string>;
  url: string;
  method: string;
  body: unknown;
}

/** A stand-in XMLHttpRequest: reports progress in quarters, then answers from `answers`. */
function fakeXhr(answers: { status: number; body: unknown; headers?: string }[]) {
  const sent: Sent[] = [];
  class FakeXhr {
    upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = {
      onprogress: null,
    };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    status = 0;
    responseText = "";
    private headers: Record<string, string> = {};
    private url = "";
    private method = "";
    private responseHeaders = "";
    open(method: string, url: string) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader(name: string, value: string) {
      this.headers[name] = value;
    }
    getAllResponseHeaders() {
      return this.responseHeaders;
    }
    abort() {}
    send(body: unknown) {
      sent.push({ headers: { ...this.headers }, url: this.url, method: this.method, body });
      const answer = answers.shift() ?? { status: 500, body: {} };
      queueMicrotask(() => {
        for (const loaded of [25, 50, 75, 100]) this.upload.onprogress?.({ lengthComputable: true, loaded, total: 100 });
        this.status = answer.status;
        this.responseText = JSON.stringify(answer.body);
        this.responseHeaders = answer.headers ?? "content-type: application/json\r\n";
        this.onload?.();
      });
    }
  }
  vi.stubGlobal("XMLHttpRequest", FakeXhr);
  return sent;
}

function auth(tokens: string[]): AuthFetch {
  let current = tokens.shift() ?? null;
  return {
    fetch: vi.fn(),
    plain: vi.fn(),
    accessToken: vi.fn(async () => current),
    refresh: vi.fn(async () => {
      current = tokens.shift() ?? null;
      return current !== null;
    }),
  };
}

afterEach(() => vi.unstubAllGlobals());

describe("upload with progress", () => {
  it("reports progress and returns the created evidence, with the bearer token", async () => {
    const sent = fakeXhr([{ status: 201, body: { id: "e1", filename: "a.png" } }]);
    const progress: number[] = [];
    const result = await uploadWithProgress<{ id: string }>({
      auth: auth(["t1"]), baseUrl: "", language: "vi", path: "/api/v1/reports/r1/evidence",
      form: new FormData(), onProgress: (f) => progress.push(f),
    });
    expect(result.id).toBe("e1");
    expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
    expect(sent[0]?.headers).toMatchObject({ Authorization: "Bearer t1", "Accept-Language": "vi" });
  });

  it("refreshes once on 401 and sends again with the new token", async () => {
    const sent = fakeXhr([
      { status: 401, body: { code: "unauthorized", title: "Unauthorized", status: 401 } },
      { status: 201, body: { id: "e2" } },
    ]);
    const a = auth(["old", "new"]);
    await expect(
      uploadWithProgress({ auth: a, baseUrl: "", language: "vi", path: "/p", form: new FormData() }),
    ).resolves.toMatchObject({ id: "e2" });
    expect(a.refresh).toHaveBeenCalledTimes(1);
    expect(sent.map((s) => s.headers.Authorization)).toEqual(["Bearer old", "Bearer new"]);
  });

  it("turns the server's refusal into a typed problem", async () => {
    fakeXhr([
      {
        status: 415,
        body: { code: "unsupported_media_type", title: "x", status: 415, detail: "Tệp không phải ảnh hay PDF." },
        headers: "content-type: application/problem+json\r\n",
      },
    ]);
    const error = await uploadWithProgress({ auth: auth(["t"]), baseUrl: "", language: "vi", path: "/p", form: new FormData() }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("unsupported_media_type");
    expect((error as ApiError).detail).toBe("Tệp không phải ảnh hay PDF.");
  });

  it("sends a raw body with its headers, and PUT when asked", async () => {
    const sent = fakeXhr([{ status: 201, body: { id: "s1" } }, { status: 200, body: { id: "d1" } }]);
    const csv = new Blob(["Mã đảng viên,Họ và tên\n"], { type: "text/csv" });
    await uploadWithProgress({
      auth: auth(["t"]), baseUrl: "", language: "vi", path: "/api/v1/roster/syncs?mode=upsert",
      form: csv, headers: { "Content-Type": "text/csv", "Idempotency-Key": "k1" },
    });
    await uploadWithProgress({ auth: auth(["t"]), baseUrl: "", language: "en", path: "/f", form: new FormData(), method: "PUT" });
    expect(sent[0]).toMatchObject({ method: "POST", body: csv });
    expect(sent[0]?.headers).toMatchObject({ "Content-Type": "text/csv", "Idempotency-Key": "k1", Authorization: "Bearer t" });
    expect(sent[1]?.method).toBe("PUT");
  });
});
