import { ApiError, NetworkError } from "./errors";
import type { AuthFetch } from "./http";

export interface UploadOptions {
  auth: AuthFetch;
  baseUrl: string;
  language: string;
  path: string;
  /** A multipart form, or a raw body (a roster file) sent with its own Content-Type. */
  form: FormData | Blob;
  /** POST by default; a document's file is a PUT. */
  method?: "POST" | "PUT";
  /** Extra headers: Content-Type of a raw body, Idempotency-Key, If-Match. */
  headers?: Record<string, string>;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** A multipart (or raw) POST/PUT with upload progress (fetch cannot report it, XMLHttpRequest can),
 * with the same bearer token and one refresh on 401 as every other call. */
export async function uploadWithProgress<T>(options: UploadOptions): Promise<T> {
  const first = await options.auth.accessToken();
  let result = await once(options, first);
  if (result.status === 401 && first !== null && (await options.auth.refresh())) {
    result = await once(options, await options.auth.accessToken());
  }
  if (result.status >= 200 && result.status < 300) return JSON.parse(result.body) as T;
  const response = new Response(result.body || null, {
    status: result.status,
    headers: result.headers,
  });
  throw await ApiError.fromResponse(response);
}

interface XhrResult {
  status: number;
  body: string;
  headers: Headers;
}

function once(options: UploadOptions, token: string | null): Promise<XhrResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(options.method ?? "POST", options.baseUrl + options.path);
    xhr.setRequestHeader("Accept-Language", options.language);
    for (const [name, value] of Object.entries(options.headers ?? {})) xhr.setRequestHeader(name, value);
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) options.onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => {
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
        const at = line.indexOf(":");
        if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      resolve({ status: xhr.status, body: xhr.responseText, headers });
    };
    xhr.onerror = () => reject(new NetworkError(new Error("upload failed")));
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    options.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(options.form);
  });
}
