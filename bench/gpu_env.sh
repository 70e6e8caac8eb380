# Sourced by the device-call scripts (bench/gpu_runs.sh, bench/gpu_paper_point.sh), from the repo's root on
# the GPU machine: Hydra from the carried wheels (.whl), MNIST from .data, fonts from .gpu, a clock.
# Needs DEADLINE and W (the work folder) set; defines elapsed() and last_line LOG (a log's last non-empty line).
T0=$(date +%s)
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$W" "$OUT"
elapsed() { echo $(($(date +%s) - T0)); }
last_line() { tail -c 400 "$1" | tr '\r' '\n' | grep -v '^\s*$' | tail -1 | cut -c1-150; }
python3 -m pip install -q --no-index --no-deps --no-build-isolation --target /tmp/site .whl/*.whl .whl/*.tar.gz || exit 1
export PYTHONPATH=/tmp/site:$PWD SLA_DATA_ROOT=$PWD/.data PYTHONUNBUFFERED=1
# oneshot.glyphs=fonts reads fonts through fc-list; the GPU machine has no fontconfig, so a stand-in lists the
# same 19 font files this machine's fc-list chose (carried in .gpu/fonts by bench/gpu_fonts.py).
mkdir -p /tmp/fc && sed "s#@DIR@#$PWD/.gpu/fonts#" .gpu/fc-list.txt >/tmp/fc/list.txt
printf '#!/bin/sh\ncat /tmp/fc/list.txt\n' >/tmp/fc/fc-list && chmod +x /tmp/fc/fc-list
export PATH=/tmp/fc:$PATH
