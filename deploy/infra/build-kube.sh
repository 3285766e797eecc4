#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager (from Go module k8s.io/kubernetes) and etcd
# (from go.etcd.io/etcd/server/v3 at the version that Kubernetes release requires) into
# $FABRIC_INFRA_CACHE/bin/<kube version>/. Skips the build when all three binaries are present.
# Usage: build-kube.sh <kube version, e.g. v1.37.2>
set -euo pipefail

KUBE_VERSION="${1:?usage: build-kube.sh <kube version>}"
CACHE="${FABRIC_INFRA_CACHE:-$HOME/.cache/fabric-infra}"
BIN="$CACHE/bin/$KUBE_VERSION"
WORK="$CACHE/build/kube-$KUBE_VERSION"

if [[ -x "$BIN/kube-apiserver" && -x "$BIN/kube-controller-manager" && -x "$BIN/etcd" ]]; then
  echo "build-kube: binaries for $KUBE_VERSION already in $BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build-kube: 'go' is not on PATH" >&2; exit 1; }
mkdir -p "$WORK" "$BIN"
cd "$WORK"
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
# The project's machines take modules only from the Go module proxy.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

# Staging modules: Kubernetes' own go.mod requires them at v0.0.0 and replaces them with
# ./staging/src/...; replaces are ignored for a dependency, so point each at its published tag.
MINOR_PATCH="${KUBE_VERSION#v1.}"          # e.g. 37.2
STAGING_VERSION="v0.${MINOR_PATCH}"        # e.g. v0.37.2

echo "build-kube: fetching k8s.io/kubernetes@$KUBE_VERSION go.mod"
rm -f go.mod go.sum
cat > go.mod <<MOD
module fabric.local/infra-kube-build

go 1.26.0
MOD
KMOD="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "$KMOD" ]] || { echo "build-kube: could not download k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }
GOLINE="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$KMOD")"
go mod edit -go="$GOLINE"

mapfile -t STAGING < <(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$KMOD")
[[ ${#STAGING[@]} -gt 10 ]] || { echo "build-kube: found no staging replaces in $KMOD" >&2; exit 1; }
args=()
for m in "${STAGING[@]}"; do args+=("-replace=$m=$m@$STAGING_VERSION"); done
go mod edit "${args[@]}"

ETCD_VERSION="$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "$KMOD")"
[[ -n "$ETCD_VERSION" ]] || { echo "build-kube: no go.etcd.io/etcd/server/v3 in $KMOD" >&2; exit 1; }
echo "build-kube: kubernetes $KUBE_VERSION, staging $STAGING_VERSION (${#STAGING[@]} modules), etcd $ETCD_VERSION"

go get "k8s.io/kubernetes@$KUBE_VERSION" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" \
       "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBE_VERSION" \
       "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
# The versions must not have moved (a newer dependency could have raised them).
go list -m k8s.io/kubernetes go.etcd.io/etcd/server/v3

GITMAJOR=1; GITMINOR="${MINOR_PATCH%%.*}"
LDK="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDK+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$GITMAJOR -X $p.gitMinor=$GITMINOR -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done
LDE="-s -w"

start=$(date +%s)
echo "build-kube: go build kube-apiserver"
go build -trimpath -ldflags "$LDK" -o "$BIN/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
echo "build-kube: go build kube-controller-manager"
go build -trimpath -ldflags "$LDK" -o "$BIN/kube-controller-manager.tmp" k8s.io/kubernetes/cmd/kube-controller-manager
echo "build-kube: go build etcd"
go build -trimpath -ldflags "$LDE" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
for b in kube-apiserver kube-controller-manager etcd; do mv -f "$BIN/$b.tmp" "$BIN/$b"; done
echo "$ETCD_VERSION" > "$BIN/etcd.version"
echo "build-kube: built in $(( $(date +%s) - start ))s into $BIN"
