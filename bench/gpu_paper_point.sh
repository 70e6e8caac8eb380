#!/usr/bin/env bash
# The paper preset's first level at half its training steps (10,000 of 20,000; every other setting the paper
# preset's: 48x48, 100 contexts, hidden 2048, batch 256) and both one-shot evaluations, on one lent GPU in one
# device call (prepared as for bench/gpu_runs.sh). The concept stage is left out: at the paper preset it trains
# 4 x 20,000 steps, more than a call has. Results, less weights and the dataset, into $OUT/paper_point.tar.gz.
#
#   device run, carry [.whl, .data, .gpu], timeout_s 450:  DEADLINE=400 bash bench/gpu_paper_point.sh
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
        echo "   t=$(elapsed) $name: $(tail -c 300 "$W/$name.log" | tr '\r' '\n' | grep -v '^\s*$' | tail -1 | cut -c1-140)"
        if [ "$(elapsed)" -ge "$DEADLINE" ]; then kill -TERM $pid; sleep 15; kill -KILL $pid 2>/dev/null; fi
    done
    wait $pid; echo "== t=$(elapsed) s: $name rc=$?"
}
stage dataset $SLA generate-cubes $C run.out=$W/dataset
stage model $SLA train $C dataset_dir=$W/dataset run.out=$W/model train.steps=10000 run.checkpoint_every=100000 run.log_every=1000
$SLA eval oneshot $C model_dir=$W/model run.out=$W/oneshot oneshot.glyphs=builtin >"$W/oneshot.log" 2>&1 &
stage oneshot_fonts $SLA eval oneshot $C model_dir=$W/model run.out=$W/oneshot_fonts oneshot.glyphs=fonts
wait
tail -3 "$W/oneshot.log"
echo "== packing at t=$(elapsed) s"
tar czf "$OUT/paper_point.tar.gz" -C "$W" --exclude='*.pt' --exclude=dataset --exclude=checkpoints .
ls -la "$OUT"
