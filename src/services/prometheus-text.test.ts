// The text exposition format: exact lines for counters, gauges and histograms, and escaping.
import { test } from "uvu"
import * as assert from "uvu/assert"
import { parseExposition } from "../../tests/support/exposition.ts"
import { renderExposition } from "./prometheus-text.ts"

test("a counter renders HELP, TYPE, then one line per label set", () => {
  const text = renderExposition([{
    kind: "counter", name: "fabric_http_requests_total", help: "HTTP requests answered",
    samples: [
      { labels: { method: "POST", route: "/v1/accounts", status: "201" }, value: 2 },
      { labels: { method: "GET", route: "/v1/projects/:projectId", status: "200" }, value: 7 },
    ],
  }])
  assert.is(text, [
    "# HELP fabric_http_requests_total HTTP requests answered",
    "# TYPE fabric_http_requests_total counter",
    'fabric_http_requests_total{method="POST",route="/v1/accounts",status="201"} 2',
    'fabric_http_requests_total{method="GET",route="/v1/projects/:projectId",status="200"} 7',
    "",
  ].join("\n"))
})

test("a gauge without labels has no braces; special values are NaN, +Inf and -Inf", () => {
  const text = renderExposition([{
    kind: "gauge", name: "g", help: "h",
    samples: [{ labels: {}, value: 0.25 }, { labels: { a: "1" }, value: NaN }, { labels: { a: "2" }, value: Infinity }, { labels: { a: "3" }, value: -Infinity }],
  }])
  assert.equal(text.split("\n").slice(2, -1), ["g 0.25", 'g{a="1"} NaN', 'g{a="2"} +Inf', 'g{a="3"} -Inf'])
})

test("a histogram renders cumulative buckets, +Inf equal to the count, then sum and count", () => {
  const text = renderExposition([{
    kind: "histogram", name: "latency_seconds", help: "latency", buckets: [0.1, 1],
    series: [{ labels: { route: "/x" }, bucketCounts: [2, 1], sum: 3.5, count: 4 }],
  }])
  assert.equal(text.split("\n").slice(2, -1), [
    'latency_seconds_bucket{route="/x",le="0.1"} 2',
    'latency_seconds_bucket{route="/x",le="1"} 3',
    'latency_seconds_bucket{route="/x",le="+Inf"} 4',
    'latency_seconds_sum{route="/x"} 3.5',
    'latency_seconds_count{route="/x"} 4',
  ])
})

test("label values escape backslash, double quote and newline; HELP escapes backslash and newline", () => {
  const text = renderExposition([{ kind: "gauge", name: "g", help: 'two\nlines \\ "quoted"', samples: [{ labels: { v: 'a\\b"c\nd' }, value: 1 }] }])
  assert.is(text.split("\n")[0], '# HELP g two\\nlines \\\\ "quoted"')
  assert.is(text.split("\n")[2], 'g{v="a\\\\b\\"c\\nd"} 1')
  assert.equal(parseExposition(text), [{ name: "g", labels: { v: 'a\\b"c\nd' }, value: 1 }])
})

test("a family with no samples still declares itself; nothing at all renders as empty text", () => {
  assert.is(renderExposition([{ kind: "counter", name: "c_total", help: "h", samples: [] }]), "# HELP c_total h\n# TYPE c_total counter\n")
  assert.is(renderExposition([]), "")
})

test.run()
