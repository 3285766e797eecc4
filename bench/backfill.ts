// Section 4: a new cluster joins an installation with 5,000 live projects; its daemon backfills
// every namespace. Its namespaces/s against the same apiserver's raw namespace-create rate,
// measured in the same run with the daemon's credentials and the daemon's own client-side rate
// limit (the measured tree's adapters/kubernetes/rate-limit.ts, with the qps and burst its
// cluster adapter uses).
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { startReal, type ApiserverConfig } from "./installation.ts"
import { countNamespaces, forEachLimited, kubeClient } from "./kube.ts"
import { closedLoop } from "./load.ts"
import type { SectionResult } from "./report.ts"
import type { Section } from "./section.ts"
import { scaled, type BenchSettings } from "./settings.ts"
import { ms, percent, perSecond, sleep } from "./stats.ts"

const targetRatio = 0.8
const apiserverName = "bench" // an extra kube-apiserver of infra.sh, only this section uses it
const etcdClientUrl = "http://127.0.0.1:12379" // infra.sh ETCD_PORT
const repo = new URL("..", import.meta.url).pathname

const infra = (...args: string[]) => {
  const r = spawnSync("bash", [`${repo}/deploy/infra/infra.sh`, ...args], { encoding: "utf8", env: process.env })
  if (r.status !== 0) throw new Error(`infra.sh ${args.join(" ")} failed:\n${r.stderr.slice(-2000)}`)
}

/** The apiserver's etcd keys go too (it is stopped first), so the next run starts from an empty cluster. */
const wipeApiserver = async () => {
  infra("cluster-down", apiserverName)
  const b64 = (s: string) => Buffer.from(s).toString("base64")
  const prefix = `/clusters/${apiserverName}/`
  const r = await fetch(`${etcdClientUrl}/v3/kv/deleterange`, {
    method: "POST", body: JSON.stringify({ key: b64(prefix), range_end: b64(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)) }),
  })
  if (!r.ok) throw new Error(`etcd deleterange ${prefix}: ${r.status} ${await r.text()}`)
}

/** The daemon's client-side limit in the measured tree: qps and burst of its cluster adapter. */
const daemonRateLimit = async (settings: BenchSettings) => {
  const source = readFileSync(`${settings.tree}/adapters/kubernetes/cluster.ts`, "utf8")
  const qps = Number(process.env.BENCH_KUBE_QPS ?? /qps:\s*config\.qps\s*\?\?\s*(\d+)/.exec(source)?.[1])
  const burst = Number(process.env.BENCH_KUBE_BURST ?? /burst:\s*config\.burst\s*\?\?\s*(\d+)/.exec(source)?.[1])
  if (!(qps > 0) || !(burst >= 1)) throw new Error("cannot read the daemon's qps/burst from adapters/kubernetes/cluster.ts: set BENCH_KUBE_QPS and BENCH_KUBE_BURST")
  const { makeTokenBucket } = await import(`${settings.tree}/adapters/kubernetes/rate-limit.ts`) as typeof import("../adapters/kubernetes/rate-limit.ts")
  return { qps, burst, bucket: makeTokenBucket({ qps, burst }) }
}

export const backfill: Section = {
  name: "backfill",
  run: async (ctx): Promise<SectionResult> => {
    const { settings, log, engines } = ctx
    if (engines === undefined) throw new Error("backfill needs the real engines (a new kube-apiserver joins)")
    const live = scaled(settings, 5000, 100)
    const raw = scaled(settings, 1000, 100)
    log(`backfill: starting kube-apiserver ${apiserverName} (infra.sh cluster-up)`)
    infra("cluster-up", apiserverName)
    const dir = `${process.env.FABRIC_INFRA_RUN}/kube/${apiserverName}`
    const cluster: ApiserverConfig = { id: `bf${Date.now().toString(36)}`, daemonKubeconfig: `${dir}/daemon.kubeconfig`, adminKubeconfig: `${dir}/admin.kubeconfig`, wipedAfter: true }
    const inst = await startReal(settings, engines, { name: "backfill", apiservers: [] })
    try {
      const accounts: string[] = []
      for (let a = 0; a < 16; a++) accounts.push((await inst.api.createAccount(`b${a}`)).accountId)
      log(`backfill: ${live} live projects (no cluster yet)`)
      const seeded = await closedLoop(16, live - accounts.length, async (i, client) => { await inst.api.createProjectOrThrow(accounts[client]!, `live${i}`) })
      if (seeded.failures > 0) throw new Error(`seeding: ${seeded.failures} creates failed: ${seeded.firstFailure}`)

      // Baseline: the raw create rate, same apiserver, same credentials, same limiter.
      const limit = await daemonRateLimit(settings)
      const kube = kubeClient(cluster.daemonKubeconfig)
      const admin = kubeClient(cluster.adminKubeconfig)
      log(`backfill: baseline, ${raw} raw namespace creates at qps ${limit.qps} / burst ${limit.burst}`)
      const names = Array.from({ length: raw }, (_, i) => `bench-raw-${cluster.id}-${i}`)
      const rawDone: number[] = []
      let rawFailures = 0
      await forEachLimited(names, 16, async (name) => {
        const wait = limit.bucket.reserve(Date.now())
        if (wait > 0) await sleep(wait)
        const r = await kube.call("POST", "/api/v1/namespaces", {
          apiVersion: "v1", kind: "Namespace",
          metadata: { name, labels: { "app.kubernetes.io/managed-by": "fabric-bench", "fabric.demeter.run/project": "prj_raw" }, annotations: { "fabric.demeter.run/account": "acc_raw" } },
        })
        if (r.status !== 201) rawFailures++
        else rawDone.push(performance.now())
      })
      // The steady rate, after the bucket's initial burst (which would flatter a short baseline).
      const fromBurst = Math.min(limit.burst, rawDone.length - 2)
      const rawRate = (rawDone.length - 1 - fromBurst) / ((rawDone.at(-1)! - rawDone[fromBurst]!) / 1000)
      kube.close()
      await sleep(2_000) // the limiter's bucket refills before the daemon starts with its own

      const before = await countNamespaces(admin)
      log(`backfill: daemon for new cluster ${cluster.id} joins ${live} live projects`)
      const spawnedAt = performance.now()
      await inst.startDaemon(cluster)
      const boundMs = Math.max(60_000, (live / Math.max(1, rawRate)) * 1500 + 60_000)
      let count = 0, first: number | undefined, last = spawnedAt
      while (count < live && performance.now() - spawnedAt < boundMs) {
        await sleep(1_000)
        const now = await countNamespaces(admin) - before
        if (now > count) { last = performance.now(); first ??= last }
        count = now
        if (!inst.daemons.get(cluster.id)!.alive()) throw new Error(`the daemon exited during the backfill:\n${inst.daemons.get(cluster.id)!.tail()}`)
      }
      const seconds = (last - spawnedAt) / 1000
      const rate = count / seconds
      // Fabric's view: every live project Ready in the new cluster.
      let allReadyAt: number | undefined
      const readyDeadline = performance.now() + 120_000
      while (count >= live && performance.now() < readyDeadline) {
        let pending = 0
        for (const a of accounts) pending += (await inst.api.listProjects(a)).filter((p) => p.clusters[cluster.id]?.phase !== "Ready").length
        if (pending === 0) { allReadyAt = performance.now(); break }
        await sleep(3_000)
      }
      admin.close()
      const ratio = rate / rawRate
      return {
        title: `4. Backfill: a new cluster joins ${live} live projects`,
        figures: [
          {
            what: "backfill namespaces/s (daemon start to last namespace)", value: `${perSecond(rate)}${count < live ? ` (only ${count} of ${live} within ${ms(boundMs)})` : ""}`,
            baseline: `${perSecond(rawRate)} raw creates`, ratio: percent(ratio), target: `≥ ${percent(targetRatio)}`, met: count >= live && ratio >= targetRatio,
          },
          { what: `time to all ${live} namespaces / all Ready in Fabric`, value: `${ms(seconds * 1000)} / ${allReadyAt ? ms(allReadyAt - spawnedAt) : "not within 120 s more"}`, baseline: `${ms((live / rawRate) * 1000)} at the raw rate` },
          { what: "first namespace after the daemon started", value: first === undefined ? "none" : ms(first - spawnedAt) },
        ],
        notes: [
          `A kube-apiserver of its own (\`infra.sh cluster-up ${apiserverName}\`, on the shared etcd) and a cluster id never seen before (${cluster.id}), so its daemon reads fabric.projects from the beginning in a new consumer group. \`fabric rpc\` alone held the ${live} projects (16 accounts; no other cluster, so nothing else ran during the backfill).`,
          `Baseline: ${raw} namespaces created by this process with the daemon's kubeconfig (user fabric-daemon), 16 in flight, each first taking a token from the tree's own makeTokenBucket at qps ${limit.qps}, burst ${limit.burst} (the defaults of its adapters/kubernetes/cluster.ts); the rate is the steady one, counted after the first ${limit.burst} (the burst)${rawFailures ? `; ${rawFailures} failed` : ""}. The backfill's rate is all its namespaces over the time from the daemon's spawn, startup included. The apiserver's namespace count (a limit=1 list and its remainingItemCount) is read every second during the backfill.`,
          "Afterwards the apiserver is stopped and its etcd keys deleted, so each run starts from an empty cluster.",
        ],
      }
    } finally {
      await inst.stop()
      await wipeApiserver().catch((e) => log(`backfill cleanup: ${e}`))
    }
  },
}
