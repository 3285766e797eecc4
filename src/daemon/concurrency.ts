// How many projects a daemon works on at once (FABRIC_DAEMON_CONCURRENCY), which is also its bound
// on apiserver calls in flight.
//
// Sized for a real apiserver behind the client-side rate limit of adapters/kubernetes (20 requests
// per second sustained, bursts of 40; adapters/kubernetes/rate-limit.ts):
// - at 50-100 ms per call, 2 calls in flight already reach 20 per second, so 16 leave the rate
//   limit, not the daemon, as what bounds throughput, even at several hundred ms per call;
// - 16 calls at once stay under the burst of 40: after an idle spell they all go out at once
//   instead of holding permits while they wait for tokens;
// - a project whose namespace is Terminating keeps its lane (its message is not finished) but no
//   apiserver permit. Lanes are many more than permits (`projectLanes`), so a hundred deletions
//   waiting on the namespace controller leave lanes to creations (tests/e2e/daemon-parallelism:
//   with 2 permits, six held deletions no longer keep a creation out).
export const defaultDaemonConcurrency = 16

/** Projects a daemon follows at once (each a lane of the bus dispatcher): most of them only wait. */
export const projectLanes = (apiserverPermits: number) => apiserverPermits * 16
