/**
 * The one HTTP helper every client here uses (undici 8, the same major as
 * Testcontainers 12.2, so one copy is installed). Short timeouts, JSON in and
 * out, and errors that say which URL answered what.
 */
import { request } from "undici";

export interface HttpResponse {
  status: number;
  text: string;
  /** Response headers, names in lower case (a repeated header's values joined by ", "). */
  headers: Record<string, string>;
}

/** A non-2xx answer, or no answer at all, from an m3 HTTP endpoint. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number | undefined,
    readonly body: string,
    cause?: unknown,
  ) {
    super(status === undefined
      ? `${method} ${url} failed: ${cause instanceof Error ? cause.message : String(cause)}`
      : `${method} ${url} answered ${status}: ${body.trim().slice(0, 500) || "(empty body)"}`,
    { cause });
  }
}

/** Sends one request; resolves with any status, rejects only when nothing answered. */
export async function httpRequest(
  method: "GET" | "HEAD" | "POST" | "PUT" | "DELETE",
  url: string,
  options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  try {
    const response = await request(url, {
      method,
      headers: { "content-type": "application/json", ...options.headers },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    return { status: response.statusCode, text: await response.body.text(), headers };
  } catch (cause) {
    throw new HttpError(method, url, undefined, "", cause);
  }
}

/** Sends one request and parses the JSON body of a 2xx answer; throws {@link HttpError} otherwise. */
export async function httpJson<T>(
  method: "GET" | "POST" | "PUT" | "DELETE",
  url: string,
  options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<T> {
  const response = await httpRequest(method, url, options);
  if (response.status < 200 || response.status > 299) {
    throw new HttpError(method, url, response.status, response.text);
  }
  try {
    return JSON.parse(response.text) as T;
  } catch (cause) {
    throw new HttpError(method, url, response.status, `invalid JSON: ${response.text.slice(0, 200)}`, cause);
  }
}
