/**
 * Import layers of src/ (`npm run check:layers`, part of `npm test`). Data flows one way:
 * options → pure plan → containers → placement → readiness → handle, and imports only point down.
 *
 * A module may import its own folder and the folders of LOWER tiers only: never a folder of its own
 * tier, never a higher one. README "Architecture" draws the same tiers.
 */
const TIERS = [
  ["model"], //                                      the shared vocabulary: types, constants, version facts (a leaf)
  ["util"], //                                       generic helpers: http, poll, file lock, log tails
  ["docker", "kube", "tls", "ports", "debug", "sink", "faults"], // one outside thing each: the engine, the Kubernetes API, certificates, host ports, delve, m3msg in, Toxiproxy
  ["m3", "lifecycle"], //                            m3's configs, APIs and images; teardown, sweep, phase timing
  ["ingest", "plan"], //                             metrics into a cluster; the pure plan of a cluster
  ["containers", "load", "targets"], //              the executor of the plan's container specs; the load harness; the plan rendered for other engines
  ["cluster", "doctor"], //                          start (named phases), attach, the started handle; the machine checks
  ["jest", "cli"], //                                the entry points' helpers
  ["<root>"], //                                     index.ts, internals.ts, vitest.mts
];

const pathOf = (folder) => (folder === "<root>" ? "^src/[^/]+$" : `^src/${folder}/`);
const any = (folders) => `(${folders.map(pathOf).join("|")})`;

const rules = [];
TIERS.forEach((tier, i) => {
  const higher = TIERS.slice(i + 1).flat();
  for (const folder of tier) {
    const sameTier = tier.filter((other) => other !== folder);
    const forbiddenTo = [...higher, ...sameTier];
    if (forbiddenTo.length === 0) continue;
    rules.push({
      name: `layer-${folder.replace(/[<>]/g, "")}`,
      comment: `src/${folder} (tier ${i}) imports only its own folder and tiers 0-${i - 1}: ${TIERS.slice(0, i).flat().join(", ") || "nothing"}`,
      severity: "error",
      from: { path: pathOf(folder) },
      to: { path: any(forbiddenTo) },
    });
  }
});

module.exports = {
  forbidden: [
    ...rules,
    {
      name: "model-is-a-leaf",
      comment: "src/model imports nothing but Node's own modules and other model files",
      severity: "error",
      from: { path: "^src/model/" },
      to: { pathNot: ["^src/model/", "^(node:)?[a-z_]+$"], dependencyTypesNot: ["core"] },
    },
    {
      name: "no-circular",
      comment: "no import cycle, also not through type-only imports",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".mts", ".js", ".mjs"] },
  },
};
