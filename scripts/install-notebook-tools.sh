#!/usr/bin/env bash
# Installs what the dcbench notebooks need, idempotently:
#   - Jupyter's headless executor and exporter, from Debian packages (jupyter-nbconvert, which
#     brings python3-nbclient and python3-jupyter-client; no pip);
#   - GoNB v0.11.1, goimports and gopls v0.23.0, built with `go install` from a small tools
#     module (the module proxy serves exact versions only, so they are pinned there);
#   - the GoNB Jupyter kernel ("gonb"), registered for the current user
#     ($JUPYTER_DATA_DIR/kernels/gonb, default ~/.local/share/jupyter/kernels/gonb).
# Usage: scripts/install-notebook-tools.sh
set -euo pipefail

GONB_VERSION=v0.11.1
GOPLS_VERSION=v0.23.0
# golang.org/x/tools (goimports) at the revision gopls v0.23.0 requires; it knows Go 1.26.
XTOOLS_VERSION=v0.47.1-0.20260707181000-a299dadba899

if ! command -v go >/dev/null 2>&1; then
  export PATH=$PATH:/usr/local/go/bin
fi
GOBIN_DIR=$(go env GOBIN)
[ -n "$GOBIN_DIR" ] || GOBIN_DIR=$(go env GOPATH)/bin
export PATH=$GOBIN_DIR:$PATH

say() { echo "install-notebook-tools: $*"; }

# 1. Jupyter (Debian packages), with Debian's own python3.
PY=/usr/bin/python3
if [ -x /usr/bin/jupyter-nbconvert ] && "$PY" -c 'import nbconvert, nbclient, jupyter_client' 2>/dev/null; then
  say "jupyter-nbconvert $("$PY" -c 'import nbconvert; print(nbconvert.__version__)') already installed"
else
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  say "installing jupyter-nbconvert (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    jupyter-nbconvert python3-nbclient python3-jupyter-client >/dev/null
fi

# 2. GoNB, goimports and gopls, at pinned versions.
has_module() { # binary, module path, version
  [ -x "$GOBIN_DIR/$1" ] && go version -m "$GOBIN_DIR/$1" 2>/dev/null | grep -qE "^[[:space:]]+mod[[:space:]]+$2[[:space:]]+$3([[:space:]]|$)"
}
if has_module gonb github.com/janpfeifer/gonb "$GONB_VERSION" &&
   has_module goimports golang.org/x/tools "$XTOOLS_VERSION" &&
   has_module gopls golang.org/x/tools/gopls "$GOPLS_VERSION"; then
  say "gonb $GONB_VERSION, goimports ($XTOOLS_VERSION) and gopls $GOPLS_VERSION already installed in $GOBIN_DIR"
else
  TOOLS=$(mktemp -d "${TMPDIR:-/tmp}/dcbench-nbtools.XXXXXX")
  trap 'rm -rf "$TOOLS"' EXIT
  say "building gonb $GONB_VERSION, goimports and gopls $GOPLS_VERSION (a few minutes on 2 cores)"
  (
    cd "$TOOLS"
    go mod init dcbench-notebook-tools >/dev/null 2>&1
    go mod edit -go=1.26
    go get "github.com/janpfeifer/gonb@$GONB_VERSION" "golang.org/x/tools/gopls@$GOPLS_VERSION" \
      "golang.org/x/tools@$XTOOLS_VERSION" >/dev/null 2>&1 || {
        go get "github.com/janpfeifer/gonb@$GONB_VERSION" "golang.org/x/tools/gopls@$GOPLS_VERSION" "golang.org/x/tools@$XTOOLS_VERSION"
        exit 1
      }
    GOFLAGS="${GOFLAGS:-} -buildvcs=false" go install github.com/janpfeifer/gonb golang.org/x/tools/cmd/goimports golang.org/x/tools/gopls
  )
fi
say "$(gonb -V 2>/dev/null | head -1 || echo "gonb ?"), $(gopls version 2>/dev/null | head -1)"

# 3. Register the kernel (cheap; redone every time so that it points at this gonb binary).
gonb --install >/dev/null 2>&1 || gonb --install
KDIR=${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}/kernels/gonb
[ -f "$KDIR/kernel.json" ] || { say "kernel.json missing in $KDIR"; exit 1; }
say "GoNB kernel registered in $KDIR"
