import { Layer } from "effect"
import { CrashHook, type CrashPoint } from "../services/crash-points.ts"

/** FABRIC_CRASH_AT=<point>: die at that point as abruptly as a power cut (no finalizers run). */
export const crashHookLayer = (crashAt: string | undefined) =>
  Layer.succeed(CrashHook, (point: CrashPoint) => {
    if (point !== crashAt) return
    console.error(JSON.stringify({ level: "warn", msg: "crash point reached: killing the process", point }))
    process.kill(process.pid, "SIGKILL")
  })
