// The same suite as tests/e2e/resources.test.ts, on a real Postgres server and a real Kafka broker
// (restarts keep the database and the Kafka prefix). The real apiservers have their own suite:
// tests/e2e/real/resources-apiservers.real.test.ts.
process.env.FABRIC_TEST_ENGINES = "real"
await import("../resources.test.ts")
