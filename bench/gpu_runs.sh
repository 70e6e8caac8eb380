#!/usr/bin/env bash
# The long runs of the open issues, side by side on one lent GPU, in one device call (docs/gpu-check.md says
# how such a call is prepared; this script additionally needs .gpu/, made by `bench/gpu_fonts.py`):
#   table1_paper   issue 21: `sla classify preset=paper`, seeds 0-2 (Table 1 at the paper's shape), no attacks
#   scale_<point>  issue 22: the scale study's four 8,000-step points, each in its own study root
#   classify_made  issue 23: ten MADEs (the hour settings) as a Bayes classifier beside the set and the MLPs
#   tests          the gpu-marked tests
# then, if time is left, gpu_check's render and train_step timings on the otherwise idle GPU.
# Every worker is stopped DEADLINE seconds after the start; what they wrote, less weights and datasets, is
# packed into $OUT/gpu_runs.tar.gz. The processes share the GPU, so their wall times are not solo timings.
#
#   device run, carry [.whl, .data, .gpu], timeout_s 560:  DEADLINE=470 bash bench/gpu_runs.sh
set -u
DEADLINE=${DEADLINE:-470}
W=/tmp/w
. bench/gpu_env.sh
{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    python3 -c "import torch, platform; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'python', platform.python_version())"
    git rev-parse HEAD 2>/dev/null
    date -u
} >"$W/machine.txt" 2>&1

SLA="python3 -m sla_cli"
$SLA classify preset=paper run.device=cuda run.threads=2 classify.adversarial.n=0 \
    run.out="$W/table1_paper" >"$W/table1_paper.log" 2>&1 &
for p in f32_h1024_s8000_seed0 f32_h512_s8000_seed0 f32_h256_s8000_seed0 f32_h256_s8000_seed1; do
    python3 bench/scale.py --out "$W/scale_$p" --points "$p" --device cuda --threads 2 \
        --budget-s $((DEADLINE - 15)) >"$W/scale_$p.log" 2>&1 &
done
$SLA classify preset=demo classify.density_classifier=made density_settings@classify.density=hour \
    classify.density.train_binarization=fixed classify.density.schedule=cosine classify.adversarial.n=0 \
    run.device=cuda run.threads=2 run.out="$W/classify_made" >"$W/classify_made.log" 2>&1 &
python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_gpu_paths.py >"$W/tests.log" 2>&1 &

while [ "$(elapsed)" -lt "$DEADLINE" ] && [ -n "$(jobs -rp)" ]; do
    sleep 20
    echo "== t=$(elapsed) s  gpu: $(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader)"
    for f in "$W"/*.log; do echo "  $(basename "$f" .log): $(last_line "$f")"; done
done
if [ -n "$(jobs -rp)" ]; then
    echo "== deadline: stopping $(jobs -rp | wc -l) workers"
    kill -TERM $(jobs -rp) 2>/dev/null
    sleep 10
    kill -KILL $(jobs -rp) 2>/dev/null
fi
wait
left=$((DEADLINE - $(elapsed)))
if [ "$left" -gt 60 ]; then
    echo "== $left s left: gpu_check's timings on the idle GPU"
    python3 bench/gpu_check.py --out "$W/gpu-check" --steps render,train_step --budget-s "$left"
fi
echo "== packing at t=$(elapsed) s"
tar czf "$OUT/gpu_runs.tar.gz" -C "$W" --exclude='*.pt' --exclude=datasets --exclude=checkpoints --exclude=site \
    --exclude=.sla-lock --exclude=work .
ls -la "$OUT"
echo "== done at t=$(elapsed) s"
