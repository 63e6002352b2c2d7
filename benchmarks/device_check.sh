#!/usr/bin/env bash
# The GPU path on a machine with one NVIDIA GPU, in one go (budget: under 8 minutes on an H100-class card):
#   1. the smoke table (config/smoke.yaml) with device: cuda, in a scratch working directory;
#   2. every job that runs a network ran on CUDA and recorded its peak GPU memory (<log>.device.json);
#   3. benchmarks/distill.py (DM, DM+VDSD) at the reference shapes and at MiniUCF scale, GPU utilisation sampled by
#      nvidia-smi every 200 ms beside it;
#   4. one DM set distilled on CPU and on CUDA (same clips, seed, fp32 with TF32 off) compared within 1e-3 of its
#      value range (benchmarks/device_compare.py), with the memory estimate beside the measured peak;
#   5. host syncs in the hot loops (benchmarks/host_syncs.py): every distillation loop, student training and the
#      test passes run twice as long under torch.cuda.set_sync_debug_mode("warn"); a loop whose sync count grows fails.
# Usage: bash benchmarks/device_check.sh [OUT_DIR]   (run from the repository root, with the project's environment
# active or PYTHON pointing at its interpreter). Everything it measures lands in OUT_DIR (default
# results/device_check); the exit status is non-zero when a check fails.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-$REPO/results/device_check}" && cd "${1:-$REPO/results/device_check}" && pwd)
PY=${PYTHON:-python}
FAIL=0
step() { echo; echo "== $* ($(date -u +%H:%M:%S))"; }

step "device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.csv"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())" | tee "$OUT/torch.txt"

step "1. smoke table on cuda"
WORK="$OUT/smoke"
rm -rf "$WORK" && mkdir -p "$WORK"
for name in Snakefile workflow resources profiles; do ln -s "$REPO/$name" "$WORK/$name"; done
cp -r "$REPO/config" "$WORK/config"
start=$(date +%s)
# gpu=4: the smoke jobs are tiny; four of them share the one card (a real run keeps the profile's one at a time)
(cd "$WORK" && timeout 330 "$PY" -m snakemake results/tables/table1.csv --cores 8 --resources gpu=4 \
    --configfile config/smoke.yaml --config device=cuda > "$OUT/smoke.log" 2>&1) || { echo "smoke run FAILED (see $OUT/smoke.log)"; tail -30 "$OUT/smoke.log"; FAIL=1; }
echo "smoke table: $(( $(date +%s) - start )) s"

step "2. every network job ran on cuda and recorded its peak GPU memory"
"$PY" - "$WORK" <<'EOF' || FAIL=1
import json, sys
from pathlib import Path
logs = Path(sys.argv[1]) / "results/logs"
records = sorted(logs.rglob("*.device.json"))
bad = []
for r in records:
    rec = json.loads(r.read_text())
    if rec.get("device") != "cuda" or not rec.get("gpu_peak_memory_bytes"):
        bad.append((str(r.relative_to(logs)), rec))
stages = sorted({r.relative_to(logs).parts[0] for r in records})
print(f"{len(records)} job records, stages: {', '.join(stages)}")
peaks = {}
for r in records:
    stage = r.relative_to(logs).parts[0]
    peaks[stage] = max(peaks.get(stage, 0), json.loads(r.read_text()).get("gpu_peak_memory_bytes") or 0)
for stage, peak in sorted(peaks.items()):
    print(f"  {stage:16s} peak GPU {peak / 2**20:8.1f} MiB")
expected = {"teacher", "class_accuracy", "expert", "distill", "evaluate", "evaluate_full", "crop_detector", "crop_tracks", "crop_scores"}
missing = expected - set(stages)
for b in bad:
    print("NOT ON CUDA / NO PEAK:", *b)
if missing:
    print("no record from:", sorted(missing))
sys.exit(1 if bad or missing or not records else 0)
EOF
[ -f "$WORK/results/tables/cost.md" ] && cat "$WORK/results/tables/cost.md" | head -40 || true

step "3. benchmarks/distill.py at the reference shapes and MiniUCF scale, GPU utilisation sampled"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/utilisation.csv" &
SMI=$!
timeout 180 "$PY" "$REPO/benchmarks/distill.py" --devices cuda --shapes reference_8x64 reference_16x112 miniucf \
    --methods dm dm_vdsd --iterations 5 --threads 8 --out "$OUT/distill.json" 2>&1 | tee "$OUT/distill.txt" || { echo "distill benchmark FAILED"; FAIL=1; }
kill "$SMI" 2>/dev/null || true
"$PY" - "$OUT/utilisation.csv" <<'EOF' || true
import sys
rows = [l.split(",") for l in open(sys.argv[1]) if l.count(",") == 2]
util = [float(r[1]) for r in rows]
mem = [float(r[2]) for r in rows]
if util:
    busy = [u for u in util if u > 0]
    print(f"GPU utilisation over {len(util)} samples: mean {sum(util) / len(util):.0f} %, mean while busy "
          f"{sum(busy) / max(len(busy), 1):.0f} %, memory used max {max(mem):.0f} MiB")
EOF

step "4. one DM set on cpu and on cuda (same seed, fp32, TF32 off)"
timeout 120 "$PY" "$REPO/benchmarks/device_compare.py" "$WORK/results/synthetic/clips/train.parquet" --iterations 10 \
    --tolerance 1e-3 | tee "$OUT/device_compare.json" || { echo "CPU / CUDA comparison FAILED"; FAIL=1; }

step "5. host syncs: a loop that runs twice as long must not make the host wait more often"
timeout 240 "$PY" "$REPO/benchmarks/host_syncs.py" "$WORK/results" --widths 4 8 8 --iterations 20 \
    --out "$OUT/host_syncs.json" 2>&1 | tee "$OUT/host_syncs.txt" || { echo "host syncs grow with a loop (see $OUT/host_syncs.json)"; FAIL=1; }

step "done: $([ $FAIL = 0 ] && echo all checks passed || echo SOME CHECKS FAILED), results in $OUT"
exit $FAIL
