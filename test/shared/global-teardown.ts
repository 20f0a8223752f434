export { sharedClusterTeardown as default } from "../../src/jest-global";
