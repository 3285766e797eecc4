// The same suite as tests/e2e/retention.test.ts, on a real Postgres server and a real Kafka broker.
process.env.FABRIC_TEST_ENGINES = "real"
await import("../retention.test.ts")
