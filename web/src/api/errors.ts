import type { paths } from "./schema";

/** The RFC 9457 problem document, read from the contract (not from a component name,
 * which may change when the document is regenerated). */
export type Problem = NonNullable<
  paths["/api/v1/me"]["get"]["responses"][401]["content"]["application/problem+json"]
>;
export type ProblemError = NonNullable<Problem["errors"]>[number];

export interface FieldError {
  /** The form field's name path, as antd's Form expects: ["url"], ["members", 0, "email"]. */
  name: (string | number)[];
  message: string;
}

const PROBLEM_TYPE = "application/problem+json";

/** An answer of the API other than 2xx, as a typed error. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | null;
  readonly errors: ProblemError[];
  readonly requestId: string | null;
  /** Seconds to wait before retrying (429, 503), from `Retry-After`. */
  readonly retryAfter: number | null;

  constructor(status: number, problem: Partial<Problem>, headers?: Headers) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = problem.code ?? `http_${status}`;
    this.title = problem.title ?? `HTTP ${status}`;
    this.detail = problem.detail ?? null;
    this.errors = problem.errors ?? [];
    this.requestId = problem.request_id ?? headers?.get("X-Request-ID") ?? null;
    this.retryAfter = parseRetryAfter(headers?.get("Retry-After") ?? null);
  }

  /** Someone else changed the record since it was read (412 `version_mismatch`). */
  get isStale(): boolean {
    return this.status === 412;
  }

  get isRateLimited(): boolean {
    return this.status === 429;
  }

  /** The problem's `errors[].loc` mapped onto form fields. The `detail` is localised by
   * `Accept-Language` but `errors[].msg` may not be: when a single field is at fault, its
   * message is the detail, in the user's language. */
  fieldErrors(): FieldError[] {
    const fields = this.errors.filter((e) => e.loc.length > 1 && e.loc[0] === "body");
    return fields.map((e) => ({
      name: e.loc.slice(1),
      message: fields.length === 1 && this.detail ? this.detail : e.msg,
    }));
  }

  static async fromResponse(response: Response, parsed?: unknown): Promise<ApiError> {
    let body: unknown = parsed;
    if (body === undefined) {
      const type = response.headers.get("Content-Type") ?? "";
      if (type.includes(PROBLEM_TYPE) || type.includes("application/json")) {
        body = await response.json().catch(() => undefined);
      }
    }
    const problem = isProblemLike(body) ? body : {};
    return new ApiError(response.status, problem, response.headers);
  }
}

/** The request never got an answer (offline, DNS, reset). Safe to retry: creates carry an
 * Idempotency-Key. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super("network error", { cause });
    this.name = "NetworkError";
  }
}

function isProblemLike(body: unknown): body is Partial<Problem> {
  return typeof body === "object" && body !== null && ("code" in body || "title" in body);
}

export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
