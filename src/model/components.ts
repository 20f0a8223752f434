/** The components of a cluster: what runs in a container, and what has an image. */

/** A container kind of the cluster (label `org.m3agg.component`). */
export type Component = "etcd" | "m3coordinator" | "m3aggregator";

/** Every component, in start order. */
export const COMPONENTS: readonly Component[] = ["etcd", "m3coordinator", "m3aggregator"];

/** What has an image: the components, and the debug build of m3aggregator (debug mode only). */
export type ImageComponent = Component | "m3aggregatorDebug";

/** Image names of the three components; see README "Images". */
export interface ImageNames {
  m3aggregator: string;
  m3coordinator: string;
  etcd: string;
  /** Debug build of m3aggregator (-N -l) with delve at /bin/dlv; used only with the `debug` option. */
  m3aggregatorDebug?: string;
}

/** Where an image name came from. */
export type ImageSource = "option" | "env" | "local" | "official" | "source" | "attached";

/** An image name and where it came from. */
export interface ResolvedImage {
  image: string;
  source: ImageSource;
}

/** Images built from a local m3 checkout (see m3/source-build.ts). */
export type SourceImages = Pick<ImageNames, "m3aggregator" | "m3coordinator"> & { m3aggregatorDebug?: string };
