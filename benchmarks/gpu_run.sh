#!/usr/bin/env bash
# One-shot GPU measurement of training speed: the step profile at batch 1 and 4, the benchmark
# (ours, fair and plain reference) at batch 1 and 4, a regional-compile row, and the end-to-end
# run on a full-size SDXL with random weights, then FLUX.1-dev's loop and a short run. Every
# figure lands as JSON in $OUT (default
# benchmarks/results/gpu-<date>), the benchmark's results file also in benchmarks/results/.
#
#   bash benchmarks/gpu_run.sh                     # on a machine with one CUDA GPU
#   PEAK_TFLOPS=989 E2E_STEPS=300 bash benchmarks/gpu_run.sh
#
# Needs the CLIP tokenizer folders (app/trainer/configs/*/tokenizer*, from `make tokenizers`;
# git ignores them, so copy them along) and about 10 GB of disk for the random SDXL folder.
# Each stage has its own time limit, so one that hangs or runs out of memory loses only itself.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python}"
OUT="${OUT:-benchmarks/results/gpu-$(date -u +%Y-%m-%d)}"
PEAK_TFLOPS="${PEAK_TFLOPS:-989}"   # bf16 dense peak of the GPU (H100 SXM: 989; H200: 989; A100: 312)
E2E_STEPS="${E2E_STEPS:-300}"       # the face preset is ~1,500 steps; 300 keeps the run short
mkdir -p "$OUT"
log() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$OUT/run.log"; }

log "device"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/nvidia-smi.csv"
"$PY" -c "import torch, diffusers, peft; print(torch.__version__, torch.version.cuda, diffusers.__version__, peft.__version__)" | tee -a "$OUT/run.log"

for batch in 1 4; do
  log "profile, batch $batch"
  timeout 600 "$PY" benchmarks/profile_step.py --model sdxl --device cuda --batch "$batch" --warmup 3 --steps 5 \
    --json "$OUT/profile_b$batch.json" 2>&1 | tee "$OUT/profile_b$batch.txt" | tail -60
done

log "benchmark, batch 1 and 4 (ours, fair, plain)"
timeout 900 "$PY" benchmarks/train_speed.py --model full-sdxl --device cuda --batch-sizes 1,4 --steps 10 --warmup 3 \
  --peak-tflops "$PEAK_TFLOPS" 2>&1 | tee "$OUT/train_speed.txt" | tail -20

log "benchmark, ours with regional compile, batch 1 and 4"
timeout 900 "$PY" benchmarks/train_speed.py --model full-sdxl --device cuda --batch-sizes 1,4 --steps 10 --warmup 10 \
  --compile-blocks --skip-reference --peak-tflops "$PEAK_TFLOPS" --results-dir "$OUT" 2>&1 \
  | tee "$OUT/train_speed_compile_blocks.txt" | tail -12

log "random-weights SDXL folder for the end-to-end run"
SDXL="${SDXL_DIR:-/tmp/loraface-random-sdxl}"
if [ ! -f "$SDXL/model_index.json" ]; then
  timeout 600 "$PY" - "$SDXL" <<'EOF'
import sys, tempfile
from pathlib import Path
import torch
sys.path.insert(0, "benchmarks")
from train_speed import build_pipe

pipe, _ = build_pipe("full-sdxl", "cuda", Path(tempfile.mkdtemp()))
pipe.to(torch.float16).save_pretrained(sys.argv[1])  # half the disk; the product loads it in fp32
EOF
fi

log "end to end, 20 photos, $E2E_STEPS steps, batch 1"
timeout 1500 "$PY" benchmarks/end_to_end.py --base "$SDXL" --device cuda --photos 20 --steps "$E2E_STEPS" \
  --json "$OUT/end_to_end.json" 2>&1 | tee "$OUT/end_to_end.txt" | tail -14

log "FLUX.1-dev face presets (fp8 base for 24 GB, bf16 for 80 GB): loop speed, peak memory, a 20-step run"
timeout 1200 "$PY" benchmarks/flux_speed.py --model full-dev --device cuda --steps 10 --warmup 3 --e2e-steps 20 \
  --results-dir "$OUT" 2>&1 | tee "$OUT/flux_speed.txt" | tail -6

log "README table from the newest results file"
"$PY" benchmarks/results.py --readme | tee "$OUT/readme_table.md"
log "done: figures in $OUT"
