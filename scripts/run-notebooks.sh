#!/usr/bin/env bash
# Executes the dcbench notebooks headless with GoNB and keeps an HTML report of each.
#
# Usage: scripts/run-notebooks.sh [quick|paper] [OUTDIR] [--inplace] [--timeout SECONDS] [NOTEBOOK ...]
#
#   quick|paper   the profile (default quick; sets DCBENCH_PROFILE for the notebooks)
#   OUTDIR        where the executed notebooks, HTML reports, tables (HTML/Markdown/CSV),
#                 charts (SVG), the results store (results/) and logs go (default reports/, git-ignored)
#   --inplace     execute the committed notebooks in place (notebooks/*.ipynb then carry the
#                 outputs); the HTML reports still go to OUTDIR
#   --timeout S   per-cell limit in seconds (default 1200 for quick, none for paper)
#   NOTEBOOK      names (augmentation, timing.ipynb, notebooks/examples.ipynb) to run only
#                 those; default: every notebooks/*.ipynb
#
# It fails (exit 1) if any cell fails: a Jupyter error (e.g. a compile error) or a cell
# program that exited with a non-zero status (GoNB v0.11.1 only prints "exit status N" for
# those, so the executed notebooks are scanned for it). Install the tools first with
# scripts/install-notebook-tools.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROFILE=quick
OUT=""
INPLACE=0
TIMEOUT=""
SELECTED=()
while [ $# -gt 0 ]; do
  case "$1" in
    quick|paper) PROFILE=$1 ;;
    --inplace) INPLACE=1 ;;
    --timeout) TIMEOUT=$2; shift ;;
    --timeout=*) TIMEOUT=${1#--timeout=} ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *.ipynb|notebooks/*) SELECTED+=("$1") ;;
    *)
      if [ -z "$OUT" ] && { [[ "$1" == */* ]] || [ ! -f "$ROOT/notebooks/$1.ipynb" ]; }; then
        OUT=$1
      else
        SELECTED+=("$1")
      fi ;;
  esac
  shift
done
[ -n "$OUT" ] || OUT=$ROOT/reports
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -z "$TIMEOUT" ]; then
  if [ "$PROFILE" = quick ]; then TIMEOUT=1200; else TIMEOUT=-1; fi
fi

if ! command -v go >/dev/null 2>&1; then export PATH=$PATH:/usr/local/go/bin; fi
GOBIN_DIR=$(go env GOBIN)
[ -n "$GOBIN_DIR" ] || GOBIN_DIR=$(go env GOPATH)/bin
export PATH=$GOBIN_DIR:$PATH
JUPYTER=/usr/bin/jupyter
PY=/usr/bin/python3
[ -x "$JUPYTER" ] || JUPYTER=$(command -v jupyter)
for tool in gonb goimports "$JUPYTER"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run-notebooks: $tool not found: run scripts/install-notebook-tools.sh" >&2; exit 1; }
done

# The notebooks' environment: the checkout they import, the profile, where kernelext writes its
# files, and the backend (dcbench's CPU backend gogemm, op by op, unless a GPU is there or
# GOMLX_BACKEND is set).
export DCBENCH_ROOT=$ROOT DCBENCH_PROFILE=$PROFILE DCBENCH_REPORT_DIR=$OUT
export GOMLX_NO_AUTO_INSTALL=1 CGO_ENABLED=${CGO_ENABLED:-1}
if [ -z "${GOMLX_BACKEND:-}" ] && ! command -v nvidia-smi >/dev/null 2>&1; then
  export GOMLX_BACKEND=gogemm:ops_sequential
fi

# Notebooks to run.
NBS=()
if [ ${#SELECTED[@]} -eq 0 ]; then
  for f in "$ROOT"/notebooks/*.ipynb; do NBS+=("$f"); done
else
  for s in "${SELECTED[@]}"; do
    n=$(basename "$s" .ipynb)
    [ -f "$ROOT/notebooks/$n.ipynb" ] || { echo "run-notebooks: no notebook notebooks/$n.ipynb" >&2; exit 1; }
    NBS+=("$ROOT/notebooks/$n.ipynb")
  done
fi

# check NOTEBOOK: prints the failed cells of an executed notebook; exit 1 if there is one.
check() {
  "$PY" - "$1" <<'EOF'
import re, sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
bad = 0
for i, cell in enumerate(nb.cells):
    if cell.cell_type != "code":
        continue
    for out in cell.get("outputs", []):
        msg = None
        if out.get("output_type") == "error":
            msg = "%s: %s" % (out.get("ename", ""), out.get("evalue", ""))
        elif out.get("output_type") == "stream" and out.get("name") == "stderr":
            if re.search(r"(?m)^(\^C\n)?(exit status [1-9][0-9]*|signal: .*)$", out.get("text", "")):
                msg = out["text"].strip()[-1500:]
        if msg:
            bad += 1
            print("  cell %d failed:\n    %s" % (i, msg.replace("\n", "\n    ")))
sys.exit(1 if bad else 0)
EOF
}

echo "run-notebooks: profile $PROFILE, backend ${GOMLX_BACKEND:-auto}, ${#NBS[@]} notebook(s), reports in $OUT"
SUMMARY=$OUT/summary.tsv
printf "notebook\tstatus\tseconds\n" >"$SUMMARY"
FAILED=0
for nb in "${NBS[@]}"; do
  name=$(basename "$nb" .ipynb)
  export DCBENCH_NOTEBOOK=$name
  rm -rf "${OUT:?}/$name"
  mkdir -p "$OUT/$name"
  if [ "$INPLACE" = 1 ]; then
    executed=$nb
    args=(--inplace)
  else
    executed=$OUT/$name.ipynb
    args=(--output-dir "$OUT" --output "$name.ipynb")
  fi
  log=$OUT/$name.log
  echo "run-notebooks: $name ..."
  start=$(date +%s)
  status=ok
  # --allow-errors keeps executing (and saving) after a failed cell so that the report shows
  # the failure; check() then fails the run. The kernel's own log goes to $log.
  if ! (cd "$ROOT/notebooks" && "$JUPYTER" nbconvert --to notebook --execute --allow-errors \
        --ExecutePreprocessor.kernel_name=gonb --ExecutePreprocessor.timeout="$TIMEOUT" \
        "${args[@]}" "$nb") >"$log" 2>&1; then
    status=error
    grep -v -E '^[IW][0-9]{4} ' "$log" | tail -n 30 >&2 || true
  fi
  secs=$(( $(date +%s) - start ))
  if [ "$status" = ok ] && ! check "$executed"; then
    status=failed
  fi
  if [ -f "$executed" ]; then
    "$JUPYTER" nbconvert --to html --output-dir "$OUT" --output "$name.html" "$executed" >>"$log" 2>&1 || status=error
  fi
  printf "%s\t%s\t%s\n" "$name" "$status" "$secs" >>"$SUMMARY"
  echo "run-notebooks: $name $status in ${secs}s (report $OUT/$name.html)"
  [ "$status" = ok ] || FAILED=1
done

# An index of the reports.
{
  echo "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>dcbench notebooks ($PROFILE)</title></head>"
  echo "<body style=\"font-family:sans-serif\"><h1>dcbench notebooks — $PROFILE profile</h1>"
  echo "<p>$(date -u '+%Y-%m-%d %H:%M UTC'), backend ${GOMLX_BACKEND:-auto}</p><table cellpadding=\"4\">"
  echo "<tr><th align=left>notebook</th><th align=left>status</th><th align=right>seconds</th></tr>"
  tail -n +2 "$SUMMARY" | while IFS=$'\t' read -r n s t; do
    echo "<tr><td><a href=\"$n.html\">$n</a></td><td>$s</td><td align=right>$t</td></tr>"
  done
  echo "</table></body></html>"
} >"$OUT/index.html"

column -t -s $'\t' "$SUMMARY" 2>/dev/null || cat "$SUMMARY"
passed=$(tail -n +2 "$SUMMARY" | awk -F'\t' '$2 == "ok"' | wc -l)
echo "notebooks: $passed passed, $(( ${#NBS[@]} - passed )) failed"
if [ "$FAILED" != 0 ]; then
  echo "run-notebooks: FAILED (see the .log and .html files in $OUT)" >&2
  exit 1
fi
echo "run-notebooks: all notebooks passed"
