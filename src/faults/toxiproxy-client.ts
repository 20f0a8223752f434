/**
 * A small typed client of Toxiproxy's HTTP API (v2.12.0, `server/api.go`): proxies and their
 * toxics. Built on the package's one HTTP helper (undici); errors name the URL and the answer.
 */
import { HttpError, httpJson, httpRequest } from "../util/http";

/** A proxy: accepts on `listen`, dials `upstream` for each connection. */
export interface ToxiproxyProxy {
  name: string;
  /** `host:port` it accepts on. */
  listen: string;
  /** `host:port` it forwards each connection to. */
  upstream: string;
  /** A disabled proxy closes its connections and refuses new ones. */
  enabled: boolean;
  toxics: Toxic[];
}

/** Direction a toxic acts on: upstream = client → server bytes, downstream = server → client. */
export type ToxicStream = "upstream" | "downstream";

/** Toxics the fixture uses, with Toxiproxy's attribute names. */
export type ToxicSpec =
  | { type: "latency"; attributes: { latency: number; jitter: number } }
  | { type: "bandwidth"; attributes: { rate: number } }
  | { type: "timeout"; attributes: { timeout: number } }
  | { type: "reset_peer"; attributes: { timeout: number } };

export type Toxic = ToxicSpec & { name: string; stream: ToxicStream; toxicity: number };

export class ToxiproxyClient {
  /** `apiUrl`: `http://127.0.0.1:<api port>`. */
  constructor(readonly apiUrl: string, private readonly timeoutMs = 10_000) {}

  /** Toxiproxy's version string (answers once the API is up). */
  async version(): Promise<string> {
    const response = await httpRequest("GET", `${this.apiUrl}/version`, { timeoutMs: this.timeoutMs });
    if (response.status !== 200) throw new HttpError("GET", `${this.apiUrl}/version`, response.status, response.text);
    return response.text.trim();
  }

  /** Every proxy by name. */
  proxies(): Promise<Record<string, ToxiproxyProxy>> {
    return httpJson("GET", `${this.apiUrl}/proxies`, { timeoutMs: this.timeoutMs });
  }

  /** Creates a proxy (409 if the name exists); it listens as soon as this resolves. */
  createProxy(proxy: { name: string; listen: string; upstream: string; enabled?: boolean }): Promise<ToxiproxyProxy> {
    return httpJson("POST", `${this.apiUrl}/proxies`, { body: { enabled: true, ...proxy }, timeoutMs: this.timeoutMs });
  }

  /** Changes a proxy's upstream, listen address or enabled flag. */
  updateProxy(name: string, change: Partial<Pick<ToxiproxyProxy, "listen" | "upstream" | "enabled">>): Promise<ToxiproxyProxy> {
    return httpJson("POST", `${this.apiUrl}/proxies/${encodeURIComponent(name)}`, { body: change, timeoutMs: this.timeoutMs });
  }

  /** Adds a toxic to a proxy (toxicity 1: every connection). */
  addToxic(proxy: string, toxic: ToxicSpec & { name: string; stream: ToxicStream; toxicity?: number }): Promise<Toxic> {
    return httpJson("POST", `${this.apiUrl}/proxies/${encodeURIComponent(proxy)}/toxics`, { body: { toxicity: 1, ...toxic }, timeoutMs: this.timeoutMs });
  }

  /** The toxics of a proxy. */
  toxics(proxy: string): Promise<Toxic[]> {
    return httpJson("GET", `${this.apiUrl}/proxies/${encodeURIComponent(proxy)}/toxics`, { timeoutMs: this.timeoutMs });
  }

  /** Removes one toxic; bytes it holds are passed on (Toxiproxy drops none on removal, except the timeout toxic's). */
  async removeToxic(proxy: string, name: string): Promise<void> {
    const url = `${this.apiUrl}/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(name)}`;
    const response = await httpRequest("DELETE", url, { timeoutMs: this.timeoutMs });
    if (response.status !== 204 && response.status !== 200) throw new HttpError("DELETE", url, response.status, response.text);
  }

  /** Enables every proxy and removes every toxic (POST /reset). */
  async resetAll(): Promise<void> {
    const url = `${this.apiUrl}/reset`;
    const response = await httpRequest("POST", url, { timeoutMs: this.timeoutMs });
    if (response.status !== 204 && response.status !== 200) throw new HttpError("POST", url, response.status, response.text);
  }
}
