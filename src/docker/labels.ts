/** The labels added when a container is created: who created it and when (the sweep reads them). */
import * as os from "node:os";
import { LABEL_OWNER_HOST, LABEL_OWNER_PID, LABEL_REUSE, LABEL_STARTED_AT } from "../model/labels";

/**
 * The labels that say who created a container and when, added at creation: the sweep removes
 * containers whose owner process died. A reuse-mode container has no owner pid (it outlives its owner).
 */
export function ownerLabels(labels: Record<string, string>): Record<string, string> {
  return {
    [LABEL_OWNER_HOST]: os.hostname(),
    [LABEL_STARTED_AT]: new Date().toISOString(),
    ...(labels[LABEL_REUSE] === undefined ? { [LABEL_OWNER_PID]: String(process.pid) } : {}),
  };
}
