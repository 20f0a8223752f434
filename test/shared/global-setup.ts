import { sharedClusterSetup } from "../../src/jest-global";

export default sharedClusterSetup({ nodes: 2, rf: 2 });
