#!/usr/bin/env bash
# The paper preset's first level (48x48, 100 contexts, hidden 2048, batch 256; STEPS of its 20,000 training
# steps) and both one-shot evaluations, then the concept stage if time is left, on one lent GPU in one device
# call (prepared as for bench/gpu_runs.sh). Every stage is stopped at DEADLINE. Results, less weights and
# the dataset, into $OUT/paper_point.tar.gz.
#
#   device run, carry [.whl, .data, .gpu], timeout_s 450:  STEPS=10000 DEADLINE=395 bash bench/gpu_paper_point.sh
#
# Run so on 2026-11-30 (docs/runs/h200-2026-11-30): generate-cubes took 252 s, its cubes' grids then computed
# on the CPU, and training was stopped at step 6,000 (73.7 steps/s). With the grids on the GPU, the whole
# preset (STEPS=20000) may fit in a 15-minute lease; not tried yet.
set -u
DEADLINE=${DEADLINE:-400}
W=/tmp/p
. bench/gpu_env.sh
SLA="python3 -m sla_cli"
C="preset=paper run.device=cuda run.threads=8"
# run one stage in the background until it ends or the deadline passes (then SIGTERM: train checkpoints)
stage() {
    local name=$1; shift
    echo "== t=$(elapsed) s: $name"
    "$@" >"$W/$name.log" 2>&1 &
    local pid=$!
    while kill -0 $pid 2>/dev/null; do
        sleep 10
        echo "   t=$(elapsed) $name: $(last_line "$W/$name.log")"
        if [ "$(elapsed)" -ge "$DEADLINE" ]; then kill -TERM $pid; sleep 15; kill -KILL $pid 2>/dev/null; fi
    done
    wait $pid; echo "== t=$(elapsed) s: $name rc=$?"
}
stage dataset $SLA generate-cubes $C run.out=$W/dataset
stage model $SLA train $C dataset_dir=$W/dataset run.out=$W/model train.steps=${STEPS:-20000} run.checkpoint_every=100000 run.log_every=1000
$SLA eval oneshot $C model_dir=$W/model run.out=$W/oneshot oneshot.glyphs=builtin >"$W/oneshot.log" 2>&1 &
stage oneshot_fonts $SLA eval oneshot $C model_dir=$W/model run.out=$W/oneshot_fonts oneshot.glyphs=fonts
wait
tail -3 "$W/oneshot.log"
[ "$(elapsed)" -lt "$((DEADLINE - 60))" ] && stage concept $SLA eval concept $C model_dir=$W/model run.out=$W/concept
echo "== packing at t=$(elapsed) s"
tar czf "$OUT/paper_point.tar.gz" -C "$W" --exclude='*.pt' --exclude=dataset --exclude=checkpoints .
ls -la "$OUT"
