// `fabric project watch` and `fabric resource watch`: follow the SSE stream and print per-cluster
// progress as it changes; exit 0 when the entity is Ready (or Deleted), 1 on timeout or error.
import type { Project } from "../domain/project.ts"
import type { Resource } from "../domain/resource.ts"
import { clusterProgress } from "./render.ts"

/** Splits an SSE byte stream into events ({event, data}); comments (keep-alives) are skipped. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder()
  let buffer = ""
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let end: number
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let event = "message"
      const data: string[] = []
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim()
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart())
      }
      if (data.length > 0) yield { event, data: data.join("\n") }
    }
  }
}

/** What is followed: its watch path (under the API's URL), its event's name, how to look it up. */
interface Watched {
  readonly path: string
  readonly event: "project" | "resource"
  /** The command that shows the per-cluster reasons, for the timeout's message. */
  readonly getCommand: string
}

const watch = async (
  url: string, token: string, watched: Watched,
  options: { timeoutSeconds: number; json: boolean; fetch: typeof fetch },
): Promise<number> => {
  const signal = AbortSignal.timeout(options.timeoutSeconds * 1000)
  try {
    const response = await options.fetch(`${url}${watched.path}`, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, signal,
    })
    if (!response.ok || response.body === null) {
      const body = await response.json().catch(() => undefined) as { error?: { code: string; message: string } } | undefined
      console.error(`fabric: ${body?.error?.code ?? response.status}: ${body?.error?.message ?? response.statusText}`)
      return 1
    }
    for await (const { event, data } of sseEvents(response.body)) {
      if (event === "shutdown") {
        console.error("fabric: the server is shutting down; run the watch again (another replica, or this one once restarted)")
        return 1
      }
      if (event !== watched.event) continue
      const entity = JSON.parse(data) as Project | Resource
      console.log(options.json ? JSON.stringify(entity) : `${new Date().toISOString().slice(11, 19)}  ${clusterProgress(entity)}`)
      if (entity.phase === "Ready" || entity.phase === "Deleted") return 0
    }
    console.error(`fabric: the stream ended before the ${watched.event} was Ready`)
    return 1
  } catch (e) {
    if (signal.aborted) {
      console.error(`fabric: not Ready after ${options.timeoutSeconds}s (see \`${watched.getCommand}\` for per-cluster reasons)`)
      return 1
    }
    console.error(`fabric: cannot watch: ${(e as Error).message}`)
    return 1
  }
}

export const watchProject = (url: string, token: string, projectId: string, options: { timeoutSeconds: number; json: boolean; fetch: typeof fetch }) =>
  watch(url, token, { path: `/v1/projects/${encodeURIComponent(projectId)}/watch`, event: "project", getCommand: `fabric project get ${projectId}` }, options)

export const watchResource = (url: string, token: string, projectId: string, resourceId: string, options: { timeoutSeconds: number; json: boolean; fetch: typeof fetch }) =>
  watch(url, token, {
    path: `/v1/projects/${encodeURIComponent(projectId)}/resources/${encodeURIComponent(resourceId)}/watch`, event: "resource",
    getCommand: `fabric resource get ${projectId} ${resourceId}`,
  }, options)
