/**
 * The Kubernetes API, as the kubernetes target uses it: the kubeconfig and its credentials and
 * server-side apply come from `@kubernetes/client-node` (an optional peer dependency, loaded on
 * first use); everything else is plain REST on the API server with those credentials (namespaces,
 * pods, events, pod logs, and the API server's service and pod proxy, which reaches a pod's HTTP
 * port without a port-forward).
 */
import * as http from "node:http";
import * as https from "node:https";
import { pathToFileURL } from "node:url";
import * as vm from "node:vm";
import type * as K8s from "@kubernetes/client-node";

/** The package the kubernetes target needs, and the range it is tested with. */
export const KUBE_CLIENT_PACKAGE = "@kubernetes/client-node";
const KUBE_CLIENT_RANGE = "^2.0.1";

/** `@kubernetes/client-node` is not installed. */
export class KubeClientMissingError extends Error {
  override readonly name = "KubeClientMissingError";
  constructor(cause: unknown) {
    super(`target kubernetes needs ${KUBE_CLIENT_PACKAGE} (an optional peer dependency of this package): npm install --save-dev ${KUBE_CLIENT_PACKAGE}@${KUBE_CLIENT_RANGE}`, { cause });
  }
}

let loaded: Promise<typeof K8s> | undefined;

/**
 * Loads `@kubernetes/client-node` (ESM only) from this CommonJS package: require() of an ES module
 * (Node >= 22.12), else a real dynamic import in Node's main context, so it also works where the
 * module system is replaced (Jest's sandbox, which cannot import ESM without
 * --experimental-vm-modules). @throws KubeClientMissingError
 */
function loadKubeClient(): Promise<typeof K8s> {
  loaded ??= (async () => {
    let resolved: string;
    try {
      resolved = require.resolve(KUBE_CLIENT_PACKAGE);
    } catch (error) {
      throw new KubeClientMissingError(error);
    }
    try {
      // Node >= 22.12 loads an ES module with require() (this package's own module system).
      return require(resolved) as typeof K8s;
    } catch {
      // A replaced module system that cannot (Jest's CommonJS sandbox without --experimental-vm-modules).
    }
    const dynamicImport = vm.runInThisContext("(url) => import(url)", {
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    }) as (url: string) => Promise<typeof K8s>;
    return dynamicImport(pathToFileURL(resolved).href);
  })();
  loaded.catch(() => { loaded = undefined; }); // a later call tries again (e.g. after an install)
  return loaded;
}

/**
 * What the dial map uses of client-node's `PortForward`. Declared here so that this package's type
 * declarations never import `@kubernetes/client-node`: it is an optional peer, absent for most users.
 */
export interface PodPortForward {
  portForward(namespace: string, pod: string, ports: number[], output: NodeJS.WritableStream,
    err: NodeJS.WritableStream | null, input: NodeJS.ReadableStream): Promise<unknown>;
}

/** An answer of the API server (or of a pod behind its proxy). */
export interface KubeResponse {
  status: number;
  text: string;
}

/** A request the API server refused or that got no answer; names the method, path and answer. */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  constructor(readonly method: string, readonly path: string, readonly status: number | undefined, readonly body: string, cause?: unknown) {
    super(status === undefined
      ? `${method} ${path} on the API server failed: ${cause instanceof Error ? cause.message : String(cause)}`
      : `${method} ${path} answered ${status}: ${body.trim().slice(0, 400) || "(empty body)"}`, { cause });
  }
}

/** Where and as whom: the kubeconfig file (default KUBECONFIG, then ~/.kube/config) and its context. */
export interface KubeConnectOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** A connection to one API server with one kubeconfig context's credentials. */
export class KubeApi {
  private constructor(
    private readonly k8s: typeof K8s,
    private readonly config: K8s.KubeConfig,
    /** The API server's URL, e.g. `https://127.0.0.1:6443`. */
    readonly server: string,
    /** The kubeconfig context used. */
    readonly context: string,
  ) {}

  /** Reads the kubeconfig; throws naming the file and context when either is unusable. */
  static async connect(options: KubeConnectOptions = {}): Promise<KubeApi> {
    const k8s = await loadKubeClient();
    const config = new k8s.KubeConfig();
    const file = options.kubeconfig ?? "the default kubeconfig (KUBECONFIG, ~/.kube/config)";
    try {
      if (options.kubeconfig !== undefined) config.loadFromFile(options.kubeconfig);
      else config.loadFromDefault();
    } catch (error) {
      throw new Error(`kubeconfig ${file}: ${(error as Error).message}`, { cause: error });
    }
    if (options.context !== undefined) {
      const known = config.getContexts().map((c) => c.name);
      if (!known.includes(options.context)) throw new Error(`kubeconfig ${file} has no context ${JSON.stringify(options.context)} (contexts: ${known.join(", ") || "none"})`);
      config.setCurrentContext(options.context);
    }
    const server = config.getCurrentCluster()?.server;
    if (server === undefined || server === "") throw new Error(`kubeconfig ${file}: context ${JSON.stringify(config.getCurrentContext())} names no cluster server`);
    return new KubeApi(k8s, config, server.replace(/\/+$/, ""), config.getCurrentContext());
  }

  /** One REST request to the API server; resolves with any status, rejects only when nothing answered in time. */
  async request(method: string, path: string, options: { body?: string; contentType?: string; timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<KubeResponse> {
    const url = new URL(this.server + path);
    const request: https.RequestOptions = {
      method,
      headers: { accept: "application/json, */*", ...options.headers, ...(options.body === undefined ? {} : { "content-type": options.contentType ?? "application/json" }) },
    };
    await this.config.applyToHTTPSOptions(request);
    const timeoutMs = options.timeoutMs ?? 10_000;
    const transport = url.protocol === "http:" ? http : https;
    return new Promise<KubeResponse>((resolve, reject) => {
      const fail = (cause: unknown) => reject(new KubeApiError(method, path, undefined, "", cause));
      const req = transport.request(url, request, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => { text += chunk; });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", fail);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", fail);
      req.end(options.body);
    });
  }

  /** A request whose answer must be 2xx; parses JSON. @throws KubeApiError */
  async json<T>(method: string, path: string, options: { body?: unknown; timeoutMs?: number } = {}): Promise<T> {
    const response = await this.request(method, path, { ...options, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    if (response.status < 200 || response.status > 299) throw new KubeApiError(method, path, response.status, response.text);
    return JSON.parse(response.text) as T;
  }

  /**
   * Server-side apply of `objects` in order (field manager `fieldManager`, conflicts forced: the
   * objects are ours). @throws naming the first object the API server refused.
   */
  async apply(objects: ReadonlyArray<{ apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } }>, fieldManager = "m3agg"): Promise<void> {
    const client = this.k8s.KubernetesObjectApi.makeApiClient(this.config);
    for (const object of objects) {
      try {
        await client.patch(object as K8s.KubernetesObject, undefined, undefined, fieldManager, true, this.k8s.PatchStrategy.ServerSideApply);
      } catch (error) {
        const e = error as { code?: number; body?: unknown; message?: string };
        throw new Error(`server-side apply of ${object.kind}/${object.metadata?.name ?? "?"}${object.metadata?.namespace === undefined ? "" : ` in namespace ${object.metadata.namespace}`} refused${e.code === undefined ? "" : ` (${e.code})`}: ${String(e.body ?? e.message ?? error).slice(0, 600)}`, { cause: error });
      }
    }
  }

  /** The kubeconfig's credentials as HTTPS request options (for a port-forward's websocket, a proxy relay). */
  async requestOptions(options: https.RequestOptions = {}): Promise<https.RequestOptions> {
    const copy = { ...options, headers: { ...options.headers } };
    await this.config.applyToHTTPSOptions(copy);
    return copy;
  }

  /** The client-node port-forward of this connection (for the dial map). */
  async portForward(): Promise<PodPortForward> {
    return new this.k8s.PortForward(this.config, true);
  }
}

/** `/api/v1/namespaces/NS/…` (`rest` without a leading slash). */
export function namespaced(namespace: string, rest: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/${rest}`;
}
