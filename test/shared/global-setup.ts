import { sharedClusterSetup } from "../../src/jest/shared-cluster";

export default sharedClusterSetup({ nodes: 2, rf: 2 });
