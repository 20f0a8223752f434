// vitest's globalSetup: one cluster for every file of the run, its id provided to them.
import { m3aggGlobalSetup } from "m3-aggregator-testcontainers/vitest";

export default m3aggGlobalSetup({ nodes: 2, rf: 2 });
