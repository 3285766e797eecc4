/** Polls `probe` until it yields a value; the failure names what was awaited and the last error. */
export const waitFor = async <T>(what: string | (() => string), probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 200): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (e) { last = e }
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}${last ? `: ${String(last)}` : ""}`)
}
