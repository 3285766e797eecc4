// The /debug page: the actor list (refreshed every few seconds), the statechart of the selected
// actor's machine with its current state highlighted, its clusters and its event history, kept
// live by one EventSource (/debug/events?actor=…). The session cookie rides along on every
// request; when it is gone (expired, logged out) the page goes back to the login form.
import { activeStateIds, renderChart } from "/debug/chart.js"

const actorsRefreshMs = 3000

const $ = (selector) => document.querySelector(selector)
const el = (tag, className, text) => {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

const page = {
  machines: undefined,
  machine: undefined,
  chart: undefined,
  actors: [],
  selected: undefined,
  /** The selected actor as the stream last sent it. */
  actor: undefined,
  source: undefined,
}

const backToLogin = () => window.location.assign("/debug")

const api = async (path) => {
  const response = await fetch(path, { headers: { accept: "application/json" } })
  if (response.status === 401) { backToLogin(); throw new Error("session ended") }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`)
  return response.json()
}

/** "live.ready" for {live: "ready"}; parallel regions joined with a comma. */
const stateText = (value) =>
  typeof value === "string" ? value
  : value && typeof value === "object" ? Object.entries(value).map(([k, v]) => `${k}.${stateText(v)}`).join(", ")
  : String(value)

const leafOf = (value) => stateText(value).split(/[.,]\s*/).at(-1)

/** "12:03:04.567" in UTC, the full instant in the tooltip. */
const clock = (iso) => (typeof iso === "string" && iso.length >= 23 ? iso.slice(11, 23) : String(iso ?? ""))

const badge = (text, kind) => {
  const b = el("span", "badge", text)
  b.dataset.kind = kind ?? text
  return b
}

const setConnection = (state, text) => {
  const c = $("#connection")
  c.dataset.state = state
  c.textContent = text
}

// ---- chart --------------------------------------------------------------------------------

const showMachine = (machine) => {
  if (page.machine === machine) return
  page.machine = machine
  page.chart?.destroy()
  page.chart = renderChart($("#chart"), page.machines[machine], { maxHeight: () => Math.max(220, window.innerHeight * 0.46) })
  $("#chart-title").textContent = `${machine} statechart`
  for (const tab of document.querySelectorAll(".tabs button")) tab.setAttribute("aria-selected", String(tab.dataset.machine === machine))
  highlightSelected()
}

const highlightSelected = () => {
  const actor = page.actor
  if (actor && actor.machine === page.machine) page.chart.highlight(activeStateIds(page.machines[actor.machine].id, actor.value))
}

// ---- actor list ---------------------------------------------------------------------------

const renderActors = () => {
  const needle = $("#filter").value.trim().toLowerCase()
  for (const machine of ["project", "resource", "account"]) {
    const all = page.actors.filter((a) => a.machine === machine)
    const shown = all.filter((a) => !needle || a.actorId.includes(needle) || stateText(a.state).includes(needle))
    $(`#${machine}-count`).textContent = shown.length === all.length ? `(${all.length})` : `(${shown.length} of ${all.length})`
    const items = shown.map((a) => {
      const item = el("li")
      const button = el("button", "actor-item")
      button.type = "button"
      button.dataset.actorId = a.actorId
      button.title = `version ${a.version}, changed ${a.updatedAt}${a.status === "done" ? " (finished)" : ""}`
      if (a.actorId === page.selected) button.setAttribute("aria-current", "true")
      if (a.status === "done") button.classList.add("finished")
      button.append(el("span", "actor-id", a.actorId), badge(leafOf(a.state)))
      button.addEventListener("click", () => { window.location.hash = a.actorId })
      item.append(button)
      return item
    })
    $(`#${machine}-list`).replaceChildren(...items)
  }
}

const refreshActors = async () => {
  try {
    page.actors = (await api("/debug/api/actors")).actors
    renderActors()
  } catch (error) {
    console.warn("actor list not refreshed", error)
  }
}

// ---- the selected actor -------------------------------------------------------------------

const idFields = { project: "projectId", resource: "resourceId", account: "accountId" }

const renderSummary = (actor) => {
  const box = $("#actor-summary")
  const head = el("div", "summary-head")
  head.append(el("span", "summary-kind", actor.machine), el("code", "summary-id", actor.actorId), badge(stateText(actor.value), leafOf(actor.value)))
  if (actor.status !== "active") head.append(badge(actor.status, "finished"))
  const facts = el("dl", "facts")
  for (const [key, value] of Object.entries(actor.context ?? {})) {
    if (key === idFields[actor.machine] || key === "clusters") continue
    facts.append(el("dt", "", key))
    const dd = el("dd")
    // What the actor belongs to is a link to that actor.
    if ((key === "accountId" && actor.machine !== "account") || (key === "projectId" && actor.machine === "resource")) {
      const link = el("a", "", value)
      link.href = `#${value}`
      dd.append(link)
    } else {
      dd.textContent = typeof value === "object" ? JSON.stringify(value) : String(value)
    }
    facts.append(dd)
  }
  box.replaceChildren(head, facts)
}

const renderClusters = (actor) => {
  const clusters = actor.context?.clusters
  $("#clusters-box").hidden = clusters === undefined
  if (clusters === undefined) return
  const rows = Object.entries(clusters).sort(([a], [b]) => a.localeCompare(b)).map(([id, c]) => {
    const row = el("tr")
    row.dataset.cluster = id
    const phase = el("td")
    phase.append(badge(c.phase))
    if (c.unreachable) phase.append(" ", badge("unreachable", "Failed"))
    const updated = el("td", "mono", clock(c.updatedAt))
    updated.title = c.updatedAt
    row.append(el("td", "mono", id), phase, el("td", "num", String(c.observedGeneration)), el("td", "num", String(c.attempts ?? 0)), el("td", "reason", c.reason ?? ""), updated)
    return row
  })
  $("#clusters tbody").replaceChildren(...rows)
}

/**
 * The event in one line: its type and the fields that say something here (not the actor's own
 * id, not the timestamps the time column shows); the whole event is in the tooltip.
 */
const eventText = (event, actorId) => {
  if (!event || typeof event !== "object") return { type: String(event), fields: "" }
  // Events applied together in one save (a batch of observations) are one history row.
  if (event.type === "batch" && Array.isArray(event.events)) {
    const parts = event.events.map((e) => eventText(e, actorId))
    return { type: `${parts.length} events`, fields: parts.map((p) => `${p.type} ${p.fields}`.trim()).join("; ") }
  }
  const { type, input, ...rest } = event
  const fields = Object.entries(rest)
    .filter(([k, v]) => v !== actorId && !/At$|^at$/.test(k))
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
  if (input && typeof input === "object") fields.unshift(`name=${input.name}`)
  return { type: String(type), fields: fields.join(" ") }
}

let lastVersionShown = 0

const renderHistory = (actor) => {
  const newest = actor.history[0]?.version ?? 0
  const rows = actor.history.map((h) => {
    const row = el("tr")
    if (h.version > lastVersionShown && lastVersionShown > 0) row.classList.add("new")
    const when = el("td", "mono", clock(h.at))
    when.title = h.at
    const what = el("td", "event")
    const text = eventText(h.event, actor.actorId)
    what.append(el("span", "event-type", text.type), " ", el("span", "event-fields", text.fields))
    what.title = JSON.stringify(h.event, null, 2)
    row.append(el("td", "num", String(h.version)), when, what, el("td", "mono", stateText(h.state)))
    return row
  })
  $("#history tbody").replaceChildren(...rows)
  $("#history-count").textContent = `(${actor.history.length}${actor.history.length >= 100 ? ", newest" : ""})`
  lastVersionShown = newest
}

const showActor = (actor) => {
  page.actor = actor
  showMachine(actor.machine)
  highlightSelected()
  renderSummary(actor)
  renderClusters(actor)
  renderHistory(actor)
  // Keep the list's badge in step with what the stream just said.
  const listed = page.actors.find((a) => a.actorId === actor.actorId)
  if (listed && stateText(listed.state) !== stateText(actor.value)) { listed.state = actor.value; renderActors() }
}

const select = (actorId) => {
  if (!/^(acc|prj)_[a-z2-7]{20}$/.test(actorId) || actorId === page.selected) return
  page.source?.close()
  page.selected = actorId
  page.actor = undefined
  lastVersionShown = 0
  renderActors()
  setConnection("connecting", `connecting to ${actorId}…`)
  const source = new EventSource(`/debug/events?actor=${encodeURIComponent(actorId)}`)
  page.source = source
  source.addEventListener("open", () => setConnection("live", `live · ${actorId}`))
  source.addEventListener("actor", (message) => {
    const actor = JSON.parse(message.data)
    showActor(actor)
    if (actor.status !== "active") {
      // A finished actor changes no more; the server ended the stream, so stop it reconnecting.
      source.close()
      setConnection("finished", `finished · ${actorId}`)
    } else {
      setConnection("live", `live · ${actorId}`)
    }
  })
  source.addEventListener("error", () => {
    if (source !== page.source || source.readyState !== EventSource.CLOSED) {
      if (source === page.source) setConnection("reconnecting", "reconnecting…")
      return
    }
    if ($("#connection").dataset.state === "finished") return
    // Closed for good: a 401 (session over) or 404 (no such actor). Ask which.
    setConnection("closed", `stream closed · ${actorId}`)
    void api(`/debug/api/actors/${actorId}`).catch(() => {})
  })
}

// ---- start --------------------------------------------------------------------------------

const start = async () => {
  page.machines = await api("/debug/api/machines")
  showMachine("project")
  for (const tab of document.querySelectorAll(".tabs button")) tab.addEventListener("click", () => showMachine(tab.dataset.machine))
  $("#filter").addEventListener("input", renderActors)
  window.addEventListener("hashchange", () => select(window.location.hash.slice(1)))
  await refreshActors()
  setInterval(refreshActors, actorsRefreshMs)
  if (window.location.hash.length > 1) select(window.location.hash.slice(1))
}

start().catch((error) => {
  setConnection("closed", `failed to start: ${error.message}`)
  console.error(error)
})
