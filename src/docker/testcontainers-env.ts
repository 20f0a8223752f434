/**
 * Testcontainers settings the fixture needs, applied once before the first
 * engine call, only where the user set nothing:
 * - TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1: every container runs in the host
 *   network on loopback, so the container host IS 127.0.0.1 (and
 *   Testcontainers must not go looking for a bridge gateway).
 * - Ryuk (the reaper) is kept when its image is present or can be pulled; on
 *   an offline machine it is switched off (TESTCONTAINERS_RYUK_DISABLED=true)
 *   and the fixture's own label-based teardown is all there is.
 */
import { getContainerRuntimeClient, ImageName } from "testcontainers";
import { LOOPBACK } from "../model/network";

const RYUK_IMAGE = "testcontainers/ryuk:0.14.0";

let prepared: Promise<void> | undefined;

async function ryukAvailable(): Promise<boolean> {
  const client = await getContainerRuntimeClient();
  const image = ImageName.fromString(process.env.RYUK_CONTAINER_IMAGE ?? RYUK_IMAGE);
  if (await client.image.exists(image)) return true;
  try {
    await client.image.pull(image);
    return true;
  } catch {
    return false;
  }
}

/** Idempotent; resolves once the environment is set. */
export function prepareTestcontainersEnv(): Promise<void> {
  prepared ??= (async () => {
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= LOOPBACK;
    if (process.env.TESTCONTAINERS_RYUK_DISABLED === undefined && !(await ryukAvailable())) {
      process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
    }
  })();
  return prepared;
}
