// A strict reader of the Prometheus text format for tests: every line must be a HELP, a TYPE or a
// sample of a family declared above it, else it throws naming the line.

export interface ParsedSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const helpLine = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/
const typeLine = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/
const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (NaN|[+-]Inf|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

const unescape = (value: string) => value.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c))

const numberOf = (text: string) => (text === "+Inf" ? Infinity : text === "-Inf" ? -Infinity : Number(text))

export const parseExposition = (text: string): ParsedSample[] => {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the exposition does not end with a newline")
  const types = new Map<string, string>()
  const samples: ParsedSample[] = []
  for (const line of text.split("\n").slice(0, -1)) {
    if (helpLine.test(line)) continue
    const type = typeLine.exec(line)
    if (type) {
      if (types.has(type[1]!)) throw new Error(`TYPE of ${type[1]} given twice`)
      types.set(type[1]!, type[2]!)
      continue
    }
    const sample = sampleLine.exec(line)
    if (!sample) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`)
    const name = sample[1]!
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "")
    if (!types.has(family) || (family !== name && types.get(family) !== "histogram")) throw new Error(`sample of an undeclared family: ${JSON.stringify(line)}`)
    const labels = Object.fromEntries([...(sample[2] ?? "").matchAll(labelPair)].map((m) => [m[1]!, unescape(m[2]!)]))
    samples.push({ name, labels, value: numberOf(sample[3]!) })
  }
  return samples
}

/** The value of the one sample with exactly these labels, or undefined. */
export const valueOf = (samples: ReadonlyArray<ParsedSample>, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined => {
  const wanted = JSON.stringify(Object.entries(labels).sort())
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value
}
