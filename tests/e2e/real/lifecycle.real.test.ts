// The same suite as tests/e2e/lifecycle.test.ts, on a real Postgres server and a real Kafka broker
// (restarts keep the database and the Kafka prefix). The real apiservers have their own suite:
// tests/e2e/real/lifecycle-apiservers.real.test.ts.
process.env.FABRIC_TEST_ENGINES = "real"
await import("../lifecycle.test.ts")
