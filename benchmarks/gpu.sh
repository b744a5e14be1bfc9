#!/usr/bin/env bash
# One GPU session of projgeo in at most 8 minutes (issue 14): install the CUDA build of jax,
# run the test suite, the quick checker and the quick benchmarks, and write ONE JSON.
#
#   bash benchmarks/gpu.sh [--dry-run] [OUT.json]        (default OUT: gpu_results.json)
#
# Run from the repository root. --dry-run (or PROJGEO_GPU_DRY_RUN=1) skips the CUDA install
# and uses tiny settings (a few test modules, one checker claim, the batched benchmark on 64
# matrices), so the script can be checked on a CPU in about a minute. Each step runs under
# its own `timeout`; the budgets add up to 8 min (install 90 s, tests 200 s, checker 70 s,
# benchmarks 120 s). On a machine without network, PROJGEO_WHEELS=DIR installs from a
# directory of wheels (pip --no-index --find-links DIR) prepared beforehand with
# `pip download -d DIR -e ".[test]" "jax[cuda12]"`. A step that fails or times out is recorded (rc 124 = timed out) and
# the script goes on: the JSON says what ran, on which devices, and how long each step took.
set -u -o pipefail

DRY=${PROJGEO_GPU_DRY_RUN:-0}
OUT=gpu_results.json
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "gpu.sh: unknown option $arg (expected --dry-run or an output path)" >&2; exit 2 ;;
    *) OUT=$arg ;;
  esac
done
[ -f pyproject.toml ] && [ -d projgeo ] || { echo "gpu.sh: run from the repository root" >&2; exit 2; }

PY=${PYTHON:-python}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

step() {  # step NAME SECONDS CMD...: run CMD under timeout, keep rc, seconds and the log tail
  local name=$1 limit=$2; shift 2
  local t0 t1 rc
  t0=$(date +%s.%N)
  timeout "$limit" "$@" >"$WORK/$name.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  echo "$name $rc $(echo "$t1 - $t0" | bc)" >>"$WORK/steps.txt"
  echo "gpu.sh: $name rc=$rc ($(tail -n 1 "$WORK/$name.log"))" >&2
}

: >"$WORK/steps.txt"
if [ "$DRY" = 1 ]; then
  echo "install 0 0 (dry run: skipped)" >>"$WORK/steps.txt"
  step tests 170 "$PY" -m pytest -q -p no:cacheprovider tests/test_package.py \
    tests/test_certified_batch.py -k "bad_input or package"
  step checker 70 "$PY" -m proofs_check --claims C3 --budget quick --no-progress \
    --json "$WORK/checker.json"
  step benchmarks 120 "$PY" -m benchmarks --quick --only batched --batched-size 64 \
    --json "$WORK/benchmarks.json"
else
  if [ -n "${PROJGEO_WHEELS:-}" ]; then
    step install 90 "$PY" -m pip install -q --no-index --find-links "$PROJGEO_WHEELS" \
      -e ".[test]" "jax[cuda12]"
  else
    step install 90 "$PY" -m pip install -q -e ".[test]" "jax[cuda12]"
  fi
  step tests 200 "$PY" -m pytest -q -p no:cacheprovider -n 8
  step checker 70 "$PY" -m proofs_check --budget quick --no-progress --json "$WORK/checker.json"
  step benchmarks 120 "$PY" -m benchmarks --quick --only batched --only cases \
    --shapes resnet18_conv,llama130m_mlp --json "$WORK/benchmarks.json"
fi

DRY="$DRY" WORK="$WORK" "$PY" - "$OUT" <<'EOF'
import json, os, platform, sys
work = os.environ["WORK"]
steps = {}
for line in open(os.path.join(work, "steps.txt")):
    name, rc, secs = line.split()[:3]
    log = os.path.join(work, f"{name}.log")
    tail = open(log, errors="replace").read()[-2000:] if os.path.exists(log) else ""
    steps[name] = {"rc": int(rc), "seconds": float(secs), "timed_out": rc == "124",
                   "log_tail": tail}
def load(name):
    p = os.path.join(work, f"{name}.json")
    return json.load(open(p)) if os.path.exists(p) else None
try:
    import jax
    devices = {"backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()],
               "jax": jax.__version__}
except Exception as e:  # a broken install is a result too
    devices = {"error": repr(e)}
out = {"dry_run": os.environ["DRY"] == "1", "platform": platform.platform(),
       "load_average": list(os.getloadavg()), **devices, "steps": steps,
       "total_seconds": sum(s["seconds"] for s in steps.values()),
       "checker": load("checker"), "benchmarks": load("benchmarks")}
json.dump(out, open(sys.argv[1], "w"), indent=1, default=str)
print(f"gpu.sh: wrote {sys.argv[1]} (backend {devices.get('backend')}, "
      f"{out['total_seconds']:.0f} s)")
EOF
