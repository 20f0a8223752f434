/**
 * Ports of a cluster: the plan (plan.ts), the allocator that hands out ports
 * outside the ephemeral range (allocator.ts, ephemeral.ts), and the
 * cross-process reservations (reservations.ts).
 */
export { describePorts, explicitPorts, planPorts, PortInUseError, seedNodePorts, type PlanContext, type PlanOptions } from "./plan";
export { LOOPBACK, type NodePorts, type PortPlan } from "../model/network";
export { isPortFree, PortAllocator, type PortAllocatorOptions, type PortRefusal } from "./allocator";
export { allocatablePortRanges, DEFAULT_EPHEMERAL_RANGE, DEFAULT_POOL, ephemeralPortRange, parsePortRange, type PortRange } from "./ephemeral";
export {
  keepReservations, listReservations, ownerProcessDead, readReservation, releaseReservations, removeStale, removeStaleTempFiles,
  reservationsDir, reservePort, type Reservation,
} from "./reservations";
export { type BindAttempt, bindFailures, type BindFailure, PortBindRetriesExhaustedError } from "./bind-failure";
