import type { KubeApi } from "../../../src/kube/api";
import { KubeProxyRelay } from "../../../src/kube/relays";
import { httpRequest } from "../../../src/util/http";

/** A stand-in for the API server connection: records what the relay asks it, answers a fixed reply. */
function recordingApi(reply: { status: number; text: string } | Error) {
  const calls: Array<{ method: string; path: string; body: string | undefined; headers: Record<string, string> | undefined }> = [];
  const api = {
    request: async (method: string, path: string, options: { body?: string; headers?: Record<string, string> } = {}) => {
      calls.push({ method, path, body: options.body, headers: options.headers });
      if (reply instanceof Error) throw reply;
      return reply;
    },
  } as unknown as KubeApi;
  return { api, calls };
}

describe("KubeProxyRelay: plain HTTP on 127.0.0.1 to the API server's service and pod proxy", () => {
  test("a request to /services/NAME:PORT/… goes to the namespace's service proxy with its method, body and the admin API's headers", async () => {
    const { api, calls } = recordingApi({ status: 200, text: '{"ok":true}' });
    const relay = await KubeProxyRelay.start(api, "m3agg-demo");
    try {
      const base = relay.urlOf("services", "m3coordinator", 7201);
      expect(base).toBe(`http://127.0.0.1:${relay.port}/services/m3coordinator:7201`);
      const answer = await httpRequest("POST", `${base}/api/v1/topic/init?x=1`, { body: { numberOfShards: 64 }, headers: { "Topic-Name": "aggregated_metrics" } });
      expect(answer).toMatchObject({ status: 200, text: '{"ok":true}' });
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ method: "POST", path: "/api/v1/namespaces/m3agg-demo/services/m3coordinator:7201/proxy/api/v1/topic/init?x=1", body: '{"numberOfShards":64}' });
      expect(calls[0]?.headers?.["topic-name"]).toBe("aggregated_metrics");
      expect(calls[0]?.headers?.host).toBeUndefined(); // the relay's own host and credentials never pass
      await httpRequest("GET", `${relay.urlOf("pods", "m3aggregator-0", 6001)}/status`);
      expect(calls[1]).toMatchObject({ method: "GET", path: "/api/v1/namespaces/m3agg-demo/pods/m3aggregator-0:6001/proxy/status" });
    } finally {
      await relay.close();
    }
  });

  test("the API server's refusal comes back as it is; no answer at all is a 502 naming why; other paths are a 404", async () => {
    const refused = recordingApi({ status: 503, text: '{"message":"no endpoints available for service \\"m3coordinator\\""}' });
    const relay = await KubeProxyRelay.start(refused.api, "ns");
    try {
      const answer = await httpRequest("GET", `${relay.urlOf("services", "m3coordinator", 7201)}/health`);
      expect(answer.status).toBe(503);
      expect(answer.text).toContain("no endpoints available");
      const other = await httpRequest("GET", `http://127.0.0.1:${relay.port}/api/v1/namespaces`);
      expect(other.status).toBe(404);
      expect(refused.calls).toHaveLength(1); // only proxied paths reach the API server
    } finally {
      await relay.close();
    }
    const silent = recordingApi(new Error("connect ECONNREFUSED 127.0.0.1:6443"));
    const relay2 = await KubeProxyRelay.start(silent.api, "ns");
    try {
      const answer = await httpRequest("GET", `${relay2.urlOf("pods", "etcd-0", 2379)}/health`);
      expect(answer.status).toBe(502);
      expect(answer.text).toContain("ECONNREFUSED 127.0.0.1:6443");
    } finally {
      await relay2.close();
    }
  });
});
