/** `m3agg render`: the cluster as Kubernetes YAML or a Swarm stack, printed (and written with --out). */
import * as fs from "node:fs";
import * as path from "node:path";
import type { RenderCommand } from "./args";
import { certificatesFor, type ImageDigests, planForTarget, targetDigests } from "../cluster/target-plan";
import { resolveDigests } from "../docker/registry";
import { parseRegistry } from "../model/registry";
import { resolveOptions } from "../cluster/options";
import { versionProfile } from "../model/versions";
import { COMPONENTS } from "../model/components";
import { kubernetesYaml, renderKubernetes } from "../targets/kubernetes";
import { renderSwarmStack, swarmStackYaml } from "../targets/swarm";

/** The stack file's name in the --out directory. */
export const STACK_FILE = "docker-stack.yml";

/**
 * With a registry (kubernetes only): the digest of each local-build image under it, asked of the
 * registry, else from the push record; a note on stderr for each image named by tag instead.
 */
export async function digestsFor(command: RenderCommand): Promise<ImageDigests> {
  const { digests, notes } = await targetDigests(resolveOptions(command.options));
  for (const note of notes) process.stderr.write(`m3agg render: ${note}\n`);
  return digests;
}

export async function render(command: RenderCommand): Promise<number> {
  const plan = planForTarget(command.options, await digestsFor(command));
  const tls = await certificatesFor(plan); // fresh certificates: the plan only references them
  if (command.target === "kubernetes") {
    const text = kubernetesYaml(renderKubernetes(plan, tls));
    if (command.out !== undefined) {
      fs.mkdirSync(command.out, { recursive: true });
      fs.writeFileSync(path.join(command.out, `${plan.clusterId}.yaml`), text);
    }
    process.stdout.write(text);
    return 0;
  }
  const stack = renderSwarmStack(plan, tls);
  const text = swarmStackYaml(stack);
  if (command.out !== undefined) {
    fs.mkdirSync(command.out, { recursive: true });
    fs.writeFileSync(path.join(command.out, STACK_FILE), text);
    for (const [name, content] of Object.entries(stack.files)) fs.writeFileSync(path.join(command.out, name), content, { mode: 0o600 });
    process.stderr.write(`wrote ${path.join(command.out, STACK_FILE)} and ${Object.keys(stack.files).length} config files; deploy with: docker stack deploy -c ${path.join(command.out, STACK_FILE)} ${stack.name}\n`);
  }
  process.stdout.write(text);
  return 0;
}
