#!/usr/bin/env bash
# Checks that the engines started by infra.sh really work:
#   postgres answers select 1 and lets the user create a database;
#   kafka: kafka-smoke.ts (compacted topic, idempotent producer, consumer group, manual commits);
#   every cluster: /readyz, the daemon token creates and deletes a namespace (the deletion must
#   finish, so the namespace controller works) and is forbidden to list secrets.
# Usage: verify.sh [cluster names...]   (default: a b c)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
eval "$(bash "$HERE/infra.sh" env)"
NODE="${FABRIC_NODE:-$REPO/node_modules/.bin/node}"
PSQL="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/psql"
CLUSTERS=("$@"); [[ ${#CLUSTERS[@]} -gt 0 ]] || CLUSTERS=(a b c)
passed=0; failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAILED: $*" >&2; failed=$((failed + 1)); }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# --- postgres
if [[ "$("$PSQL" -X -At "$DATABASE_URL" -c 'select 1' 2>&1)" == 1 ]]; then ok "postgres select 1"; else bad "postgres select 1 at $DATABASE_URL"; fi
db="verify_$$"
if "$PSQL" -X -q "$DATABASE_URL" -c "create database $db" -c "drop database $db" >/dev/null 2>&1; then
  ok "postgres create/drop database as the test user"; else bad "postgres create database"; fi

# --- kafka
t0="$(now)"
if "$NODE" --no-warnings "$HERE/kafka-smoke.ts" "$KAFKA_BROKERS"; then ok "kafka smoke ($(since "$t0")s)"; else bad "kafka smoke"; fi

# --- the credentials suite's engines: TLS on postgres (verify-full), the secure broker as its super user
if [[ -n "${FABRIC_TLS_DATABASE_URL:-}" ]] && [[ "$("$PSQL" -X -At "$FABRIC_TLS_DATABASE_URL" -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' 2>&1)" == t ]]; then
  ok "postgres over TLS, verify-full"; else bad "postgres over TLS at ${FABRIC_TLS_DATABASE_URL:-(FABRIC_TLS_DATABASE_URL unset)}"; fi
if FABRIC_KAFKA_SASL_MECHANISM=scram-sha-512 FABRIC_KAFKA_SASL_USERNAME=admin FABRIC_KAFKA_SASL_PASSWORD="${FABRIC_SECURE_KAFKA_PASSWORD_ADMIN:-}" \
   FABRIC_KAFKA_TLS=1 FABRIC_KAFKA_TLS_CA_FILE="${FABRIC_INFRA_CA_FILE:-}" "$NODE" --no-warnings "$HERE/kafka-ready.ts" "${FABRIC_SECURE_KAFKA_BROKERS:-}" 10 >/dev/null 2>&1; then
  ok "secure kafka: SCRAM over TLS"; else bad "secure kafka at ${FABRIC_SECURE_KAFKA_BROKERS:-(FABRIC_SECURE_KAFKA_BROKERS unset)}"; fi

# --- kubernetes
req() { # req TOKEN CA METHOD URL [BODY] -> prints HTTP code, body in $out
  local tok="$1" ca="$2" method="$3" url="$4" body="${5:-}"
  curl -sS -m 10 -o "$out" -w '%{http_code}' --cacert "$ca" -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' -X "$method" ${body:+--data-binary "$body"} "$url" || echo 000
}
out="$(mktemp)"; trap 'rm -f "$out"' EXIT
for n in "${CLUSTERS[@]}"; do
  d="$FABRIC_INFRA_RUN/kube/$n"; port="$(cat "$d/port")"; ca="$d/certs/apiserver.crt"
  base="https://127.0.0.1:$port"; admin="$(cat "$d/admin.token")"; daemon="$(cat "$d/daemon.token")"
  grep -q "current-context: $n$" "$d/daemon.kubeconfig" && grep -q "token: $daemon" "$d/daemon.kubeconfig" \
    && ok "$n: daemon.kubeconfig (context $n, daemon token)" || bad "$n: daemon.kubeconfig"
  c="$(req "$admin" "$ca" GET "$base/readyz")"; [[ "$c" == 200 ]] && ok "$n: /readyz 200" || bad "$n: /readyz $c"
  c="$(req "$daemon" "$ca" GET "$base/api/v1/secrets")"
  [[ "$c" == 403 ]] && ok "$n: daemon token forbidden to list secrets" || bad "$n: daemon list secrets gave $c, want 403"
  c="$(req "$daemon" "$ca" GET "$base/api/v1/namespaces")"
  [[ "$c" == 200 ]] && ok "$n: daemon token lists namespaces" || bad "$n: daemon list namespaces gave $c"
  ns="verify-$$-$n"
  c="$(req "$daemon" "$ca" POST "$base/api/v1/namespaces" "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}")"
  [[ "$c" == 201 ]] && ok "$n: daemon token created namespace $ns" || { bad "$n: create namespace gave $c: $(cat "$out")"; continue; }
  # a configmap inside, so the namespace controller has content to delete
  req "$admin" "$ca" POST "$base/api/v1/namespaces/$ns/configmaps" '{"metadata":{"name":"x"},"data":{"k":"v"}}' >/dev/null
  t0="$(now)"
  c="$(req "$daemon" "$ca" DELETE "$base/api/v1/namespaces/$ns")"
  [[ "$c" == 200 || "$c" == 202 ]] || bad "$n: delete namespace gave $c"
  gone=""
  for ((i = 0; i < 120; i++)); do
    c="$(req "$daemon" "$ca" GET "$base/api/v1/namespaces/$ns")"
    [[ "$c" == 404 ]] && { gone=1; break; }
    sleep 0.5
  done
  [[ -n "$gone" ]] && ok "$n: namespace deletion finished in $(since "$t0")s (namespace controller works)" \
    || bad "$n: namespace $ns still there 60s after delete: $(cat "$out")"
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
