/**
 * Fails at load, naming the versions, on a Node older than this package runs on:
 * Testcontainers 12.2 needs Node >= 22.22, and undici 8 (its HTTP client and ours)
 * crashes at import on Node 20 with an unhelpful TypeError. Imported first by the
 * package entry points.
 */
import { unsupportedNodeMessage } from "./node-support";

export { isSupportedNode, MIN_NODE } from "./node-support";

const message = unsupportedNodeMessage(process.versions.node);
if (message !== undefined) throw new Error(message);
