/** The phases of a cluster start, how long each took, and what the progress callback hears. */

/** Phases of a cluster start, in order. */
export type StartPhase = "validate" | "claim" | "build" | "sweep" | "images" | "ports" | "files" | "tls" | "etcd" | "coordinator" | "placement" | "sink" | "proxies" | "aggregators" | "election";

/** Milliseconds spent in each phase of start(). */
export type StartupTimings = Partial<Record<StartPhase, number>> & { total: number };

/** A start phase began or ended. */
export interface ProgressEvent {
  phase: string;
  state: "begin" | "end" | "failed" | "progress";
  /** Milliseconds the phase took (end/failed). */
  ms?: number;
  /** What is going on within a long phase (state "progress"), e.g. a source build step. */
  detail?: string;
}

/** Last log lines of one container, attached to errors. */
export interface LogTail {
  component: string;
  lines: string[];
}
