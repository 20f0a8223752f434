// Validates Kubernetes objects against the API's OpenAPI schemas with kubernetes-models (ESM
// only, so jest runs this file as a child process). Reads a JSON array of objects on stdin and
// prints a JSON array of { kind, name, error } (error null when valid).
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as batch from "kubernetes-models/batch/v1";

const groups = { v1: core, "apps/v1": apps, "batch/v1": batch };
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map((object) => {
  const Model = groups[object.apiVersion]?.[object.kind];
  const name = object.metadata?.name;
  if (Model === undefined) return { kind: object.kind, name, error: `no model for ${object.apiVersion} ${object.kind}` };
  try {
    new Model(object).validate();
    return { kind: object.kind, name, error: null };
  } catch (error) {
    return { kind: object.kind, name, error: String(error.message ?? error) };
  }
});
process.stdout.write(JSON.stringify(results));
