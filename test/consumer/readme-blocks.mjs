// Writes every ```ts block of the README into DIR/block-N.ts, so tsc can check it against
// the installed package, as a user would paste it. Blocks are fragments: a block without
// imports gets an import of each package export it names, and a block that uses `cluster`
// without declaring it gets `declare const cluster: StartedM3AggregatorCluster`.
//   node readme-blocks.mjs README.md DIR   (run inside the consumer project)
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";

const [readme, dir] = process.argv.slice(2);
if (!readme || !dir) throw new Error("usage: node readme-blocks.mjs README.md DIR");
const pkg = "m3-aggregator-testcontainers";
const exported = Object.keys(createRequire(path.resolve("package.json"))(pkg));

const blocks = [...fs.readFileSync(readme, "utf8").matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
if (blocks.length === 0) throw new Error(`${readme} has no \`\`\`ts block`);
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
blocks.forEach((code, i) => {
  const preamble = [];
  if (!/^import /m.test(code)) {
    const used = exported.filter((name) => new RegExp(`\\b${name}\\b`).test(code));
    if (used.length > 0) preamble.push(`import { ${used.join(", ")} } from "${pkg}";`);
  }
  if (/\bcluster\b/.test(code) && !/\b(const|let|var)\s+cluster\b/.test(code)) {
    preamble.push(`import type { StartedM3AggregatorCluster as __Started } from "${pkg}";`, "declare const cluster: __Started;");
  }
  const file = path.join(dir, `block-${i + 1}.ts`);
  fs.writeFileSync(file, `${preamble.join("\n")}\n${code}\nexport {};\n`);
});
console.log(`${blocks.length} README ts blocks written to ${dir}`);
