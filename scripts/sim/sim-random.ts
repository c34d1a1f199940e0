// The simulation's random source is the one seeded generator of dkv's tools
// (node/core/seeded-random.ts): every choice of the network, the disks, the nemesis and the
// workload draws from it, so a seed names a run exactly. Never Math.random.

export { SeededRandom as SimRandom } from "../../node/core/seeded-random.js";
