// vitest's globalSetup: one cluster for every file of the run, its id provided to them.
import { m3aggGlobalSetup } from "m3-aggregator-testcontainers"; // the main entry: a globalSetup runs outside test files

export default m3aggGlobalSetup({ nodes: 2, rf: 2 });
