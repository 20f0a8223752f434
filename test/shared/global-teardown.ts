export { sharedClusterTeardown as default } from "../../src/jest/shared-cluster";
