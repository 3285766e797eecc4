#!/usr/bin/env bash
# Builds a minimal OpenTelemetry Collector (the OTLP receiver and the contrib file exporter)
# with the OpenTelemetry Collector Builder (Go module go.opentelemetry.io/collector/cmd/builder)
# into $FABRIC_INFRA_CACHE/bin/otelcol-<version>/otelcol. Skips the build when it is there.
# The traces test (tests/e2e/real/tracing.real.test.ts) runs it; `infra.sh up` builds it.
# Usage: build-otelcol.sh [collector version, default v0.161.0]
#
# Every collector module stays at one release: v0.161.0 (core components), v1.67.0 (the
# confmap providers of that release), contrib v0.161.0 (the newest fileexporter this
# machine's Go module proxy served whole).
set -euo pipefail

VERSION="${1:-${FABRIC_OTELCOL_VERSION:-v0.161.0}}"
CACHE="${FABRIC_INFRA_CACHE:-$HOME/.cache/fabric-infra}"
BIN="$CACHE/bin/otelcol-$VERSION"
WORK="$CACHE/build/otelcol-$VERSION"

if [[ -x "$BIN/otelcol" ]]; then
  echo "build-otelcol: $BIN/otelcol already built"
  exit 0
fi

command -v go >/dev/null || { echo "build-otelcol: 'go' is not on PATH" >&2; exit 1; }
# The confmap providers are versioned 1.x beside the 0.x components: 0.N.0 goes with 1.(N-94).0.
MINOR="${VERSION#v0.}"; MINOR="${MINOR%%.*}"
PROVIDERS="v1.$(( MINOR - 94 )).0"

mkdir -p "$WORK" "$BIN"
cd "$WORK"
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
# The project's machines take modules only from the Go module proxy.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOBIN="$WORK/gobin"

start=$(date +%s)
echo "build-otelcol: go install go.opentelemetry.io/collector/cmd/builder@$VERSION"
go install "go.opentelemetry.io/collector/cmd/builder@$VERSION"

cat > builder-config.yaml <<YAML
dist:
  module: fabric.local/otelcol
  name: otelcol
  description: Fabric's test collector (OTLP in, JSON file out)
  version: "${VERSION#v}"
  output_path: $WORK/dist
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver $VERSION
exporters:
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter $VERSION
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter $VERSION
providers:
  - gomod: go.opentelemetry.io/collector/confmap/provider/envprovider $PROVIDERS
  - gomod: go.opentelemetry.io/collector/confmap/provider/fileprovider $PROVIDERS
  - gomod: go.opentelemetry.io/collector/confmap/provider/yamlprovider $PROVIDERS
telemetry:
  gomod: go.opentelemetry.io/collector/service $VERSION
  import: go.opentelemetry.io/collector/service/telemetry/otelconftelemetry
YAML

echo "build-otelcol: builder (generate, go get, go build; several minutes on 2 cores)"
"$GOBIN/builder" --config=builder-config.yaml
mv -f "$WORK/dist/otelcol" "$BIN/otelcol.tmp"
mv -f "$BIN/otelcol.tmp" "$BIN/otelcol"
echo "build-otelcol: built in $(( $(date +%s) - start ))s into $BIN"
