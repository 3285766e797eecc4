// Draws a statechart (the JSON of machines/statechart.ts) as nested boxes with SVG arrows, and
// highlights the states an actor is in. Hand-written so /debug needs nothing from the internet.
//
// Layout: the children of a compound state are placed in ranks (breadth-first from its initial
// state along the transitions between them); the top level runs left to right, each nesting
// level turns the direction, so a machine stays wide rather than tall. Every transition is also
// written inside its source box ("event → target if guard"), so arrows need no labels.

const svgNs = "http://www.w3.org/2000/svg"

const el = (tag, className, text) => {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

const lastSegment = (id) => id.slice(id.lastIndexOf(".") + 1)

/** What a transition line says: its trigger (event, step outcome or delay) and its guard. */
const triggerOf = (t) =>
  t.kind === "event" ? t.event
  : t.kind === "done" ? "done"
  : t.kind === "error" ? "failed"
  : t.kind === "after" ? `after ${t.event}`
  : ""

const descendantsOf = (node) => [node, ...node.states.flatMap(descendantsOf)]

/** The ranks of a compound state's children: arrays of children, in reading order. */
const ranksOf = (node) => {
  const children = node.states
  const owner = new Map()
  for (const child of children) for (const d of descendantsOf(child)) owner.set(d.id, child)
  const next = new Map(children.map((c) => [c, new Set()]))
  for (const child of children) {
    for (const d of descendantsOf(child)) {
      for (const t of d.transitions) {
        for (const target of t.targets) {
          const to = owner.get(target)
          if (to && to !== child) next.get(child).add(to)
        }
      }
    }
  }
  const rank = new Map()
  const first = children.find((c) => c.id === node.initial) ?? children[0]
  const queue = first ? [first] : []
  if (first) rank.set(first, 0)
  while (queue.length > 0) {
    const current = queue.shift()
    for (const to of next.get(current)) {
      if (!rank.has(to)) { rank.set(to, rank.get(current) + 1); queue.push(to) }
    }
  }
  // States nothing leads to still get drawn, after the rest.
  const reached = Math.max(-1, ...rank.values())
  children.filter((c) => !rank.has(c)).forEach((c, i) => rank.set(c, reached + 1 + i))
  const ranks = []
  for (const child of children) (ranks[rank.get(child)] ??= []).push(child)
  // Final states below (or after) the others of their rank: the main path reads first.
  return ranks.filter(Boolean).map((r) => [...r.filter((c) => c.type !== "final"), ...r.filter((c) => c.type === "final")])
}

const renderNode = (node, depth, boxes, isRoot) => {
  const box = el("div", `state ${node.type}${isRoot ? " root" : ""}`)
  box.dataset.stateId = node.id
  boxes.set(node.id, box)
  box.append(el("div", "state-name", isRoot ? `${node.key} machine` : node.key))

  for (const step of node.invokes) box.append(el("div", "state-invoke", `runs ${step}`))
  const moves = node.transitions.filter((t) => t.targets.length > 0)
  for (const t of moves) {
    const line = el("div", "state-transition")
    const trigger = triggerOf(t)
    if (trigger) line.append(el("span", `trigger ${t.kind}`, trigger), " ")
    line.append("→ ", el("b", "", t.targets.map(lastSegment).join(", ")))
    if (t.guard) line.append(" ", el("span", "guard", `if ${t.guard}`))
    box.append(line)
  }
  const stays = node.transitions.filter((t) => t.targets.length === 0)
  if (stays.length > 0) {
    const line = el("div", "state-stays", "updates on ")
    line.append(el("span", "trigger event", [...new Set(stays.map((t) => t.kind === "event" ? t.event : triggerOf(t) || "always"))].join(" · ")))
    box.append(line)
  }

  if (node.states.length > 0) {
    const children = el("div", `state-children ${depth % 2 === 0 ? "across" : "down"}`)
    for (const rank of ranksOf(node)) {
      const group = el("div", "rank")
      for (const child of rank) {
        const childBox = renderNode(child, depth + 1, boxes, false)
        if (child.id === node.initial) childBox.classList.add("initial")
        group.append(childBox)
      }
      children.append(group)
    }
    box.append(children)
  }
  return box
}

/** One arrow per (source, target) pair; its tooltip lists every transition it stands for. */
const edgesOf = (root) => {
  const edges = new Map()
  for (const node of descendantsOf(root)) {
    for (const t of node.transitions) {
      for (const target of t.targets) {
        if (target === node.id) continue
        const key = `${node.id}→${target}`
        const edge = edges.get(key) ?? { from: node.id, to: target, labels: [] }
        edge.labels.push([triggerOf(t) || "always", t.guard ? `if ${t.guard}` : ""].join(" ").trim())
        edges.set(key, edge)
      }
    }
  }
  return [...edges.values()]
}

const clamp = (x, lo, hi) => Math.min(Math.max(x, lo), hi)

/** A curve from one box's edge to the other's, on the sides that face each other. */
const pathBetween = (a, b) => {
  const gapX = Math.max(b.left - a.right, a.left - b.right)
  const gapY = Math.max(b.top - a.bottom, a.top - b.bottom)
  if (gapX <= 0 && gapY <= 0) return undefined // nested or overlapping: the text line says it
  const cx = (r) => (r.left + r.right) / 2
  const cy = (r) => (r.top + r.bottom) / 2
  if (gapY > gapX) {
    const down = b.top >= a.bottom
    const shift = down ? -5 : 5 // the two directions between one pair run side by side
    const sx = clamp(cx(b), a.left + 10, a.right - 10) + shift
    const ex = clamp(cx(a), b.left + 10, b.right - 10) + shift
    const sy = down ? a.bottom : a.top
    const ey = down ? b.top : b.bottom
    const bend = (ey - sy) / 2
    return `M${sx},${sy} C${sx},${sy + bend} ${ex},${ey - bend} ${ex},${ey}`
  }
  const right = b.left >= a.right
  const shift = right ? -5 : 5
  const sy = clamp(cy(b), a.top + 10, a.bottom - 10) + shift
  const ey = clamp(cy(a), b.top + 10, b.bottom - 10) + shift
  const sx = right ? a.right : a.left
  const ex = right ? b.left : b.right
  const bend = (ex - sx) / 2
  return `M${sx},${sy} C${sx + bend},${sy} ${ex - bend},${ey} ${ex},${ey}`
}

const drawArrows = (stage, svg, edges, boxes) => {
  const origin = stage.getBoundingClientRect()
  const rectOf = (id) => {
    const r = boxes.get(id).getBoundingClientRect()
    return { left: r.left - origin.left, right: r.right - origin.left, top: r.top - origin.top, bottom: r.bottom - origin.top }
  }
  svg.replaceChildren()
  svg.setAttribute("width", String(stage.scrollWidth))
  svg.setAttribute("height", String(stage.scrollHeight))
  const defs = document.createElementNS(svgNs, "defs")
  for (const id of ["arrowhead", "arrowhead-next"]) {
    const marker = document.createElementNS(svgNs, "marker")
    marker.id = id
    for (const [k, v] of Object.entries({ viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" })) marker.setAttribute(k, v)
    const head = document.createElementNS(svgNs, "path")
    head.setAttribute("d", "M0,0 L10,5 L0,10 z")
    marker.append(head)
    defs.append(marker)
  }
  svg.append(defs)
  const paths = []
  for (const edge of edges) {
    const d = pathBetween(rectOf(edge.from), rectOf(edge.to))
    if (!d) continue
    const path = document.createElementNS(svgNs, "path")
    path.setAttribute("d", d)
    path.setAttribute("class", "arrow")
    path.dataset.from = edge.from
    path.dataset.to = edge.to
    const title = document.createElementNS(svgNs, "title")
    title.textContent = `${lastSegment(edge.from)} → ${lastSegment(edge.to)}: ${edge.labels.join("; ")}`
    path.append(title)
    svg.append(path)
    paths.push(path)
  }
  return paths
}

/** The ids of every state in a snapshot value ("live" and "live.ready" for {live: "ready"}). */
export const activeStateIds = (machineId, value) => {
  const ids = [machineId]
  const walk = (prefix, v) => {
    if (typeof v === "string") { ids.push(`${prefix}.${v}`); return }
    if (v && typeof v === "object") for (const [k, sub] of Object.entries(v)) { ids.push(`${prefix}.${k}`); walk(`${prefix}.${k}`, sub) }
  }
  walk(machineId, value)
  return ids
}

/**
 * Draws `root` into `container`, scaled down to fit its width (and `maxHeight`).
 * Returns `highlight(ids)` to mark the current states and the arrows that can leave them.
 */
export const renderChart = (container, root, { maxHeight }) => {
  const boxes = new Map()
  const stage = el("div", "chart-stage")
  const svg = document.createElementNS(svgNs, "svg")
  svg.setAttribute("class", "chart-arrows")
  svg.setAttribute("aria-hidden", "true")
  stage.append(renderNode(root, 0, boxes, true), svg)
  container.replaceChildren(stage)
  const edges = edgesOf(root)
  let paths = []
  let current = new Set()

  const mark = () => {
    for (const [id, box] of boxes) box.classList.toggle("current", current.has(id))
    for (const path of paths) path.classList.toggle("next", current.has(path.dataset.from) && !current.has(path.dataset.to))
  }
  const layout = () => {
    stage.style.transform = ""
    paths = drawArrows(stage, svg, edges, boxes)
    const scale = Math.min(1, (container.clientWidth - 2) / stage.scrollWidth, maxHeight() / stage.scrollHeight)
    stage.style.transform = `scale(${scale})`
    container.style.height = `${Math.ceil(stage.scrollHeight * scale) + 2}px`
    mark()
  }
  layout()
  // Only a new width needs a new layout (the height follows from it).
  let width = container.clientWidth
  const resized = new ResizeObserver(() => {
    if (container.clientWidth !== width) { width = container.clientWidth; layout() }
  })
  resized.observe(container)

  return {
    highlight(ids) {
      const next = new Set(ids)
      const changed = [...next].filter((id) => !current.has(id))
      current = next
      mark()
      // A state just entered flashes once, so a live change catches the eye.
      for (const id of changed) {
        const box = boxes.get(id)
        if (!box || id === root.id) continue
        box.classList.remove("entered")
        void box.offsetWidth
        box.classList.add("entered")
      }
    },
    destroy() { resized.disconnect() },
  }
}
