/**
 * A browser, as far as the control plane can tell: it keeps the session cookie Sluice sets (and
 * drops it when Sluice clears it), sends it back, and sends `Origin` on POST and DELETE as
 * browsers do on same-origin changes. Tests of the auth and account routes sign people in
 * through it over real HTTP.
 */
export interface BrowserResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The body as text, exactly as sent. */
  readonly text: string;
  /** The body parsed as JSON; undefined when empty. */
  readonly json: unknown;
}

export interface BrowserRequest {
  /** JSON-encoded as the body. */
  readonly body?: unknown;
  /** Overrides the same-origin `Origin`; null sends none. */
  readonly origin?: string | null;
  readonly headers?: Record<string, string>;
}

export class TestBrowser {
  /** The session cookie, `name=value`, or undefined before sign-in and after sign-out. */
  cookie: string | undefined;

  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, init: BrowserRequest = {}): Promise<BrowserResponse> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookie !== undefined) headers["cookie"] = this.cookie;
    const origin = init.origin === undefined ? (method === "GET" ? null : this.baseUrl) : init.origin;
    if (origin !== null) headers["origin"] = origin;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(this.baseUrl + path, { method, headers, ...(init.body !== undefined && { body: JSON.stringify(init.body) }) });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(";")[0]!;
      this.cookie = pair.endsWith("=") ? undefined : pair;
    }
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: text === "" ? undefined : JSON.parse(text) };
  }

  get(path: string, init?: BrowserRequest): Promise<BrowserResponse> {
    return this.request("GET", path, init);
  }

  post(path: string, body?: unknown, init: Omit<BrowserRequest, "body"> = {}): Promise<BrowserResponse> {
    return this.request("POST", path, { ...init, body });
  }

  delete(path: string, init?: BrowserRequest): Promise<BrowserResponse> {
    return this.request("DELETE", path, init);
  }
}
