/**
 * The CLI's first import: on a too-old Node, one line on stderr and exit 1, before anything
 * that would crash on that Node is loaded (no stack trace for a user error).
 */
import { unsupportedNodeMessage } from "../util/node-support";

const message = unsupportedNodeMessage(process.versions.node);
if (message !== undefined) {
  process.stderr.write(`m3agg: ${message}\n`);
  process.exit(1);
}
