#!/usr/bin/env bash
# The notes' study grid for the Lorenz flow-map MLP (issue 6), timed under the shared benchmark lock.
#   bash benchmarks/surrogate_sweep.sh reduced   # 3 x 3 x 3 x 2 x 2 = 108 points
#   bash benchmarks/surrogate_sweep.sh full      # 3 x 3 x 3 x 5 x 3 = 405 points
# Re-running resumes: finished points in the folder's results.csv are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
grid=${1:-reduced}
if [[ $grid == full ]]; then
  axes="--optimizer gd gd-momentum sgd sgd-momentum adam --scheduler none step cosine"
else
  axes="--optimizer sgd-momentum adam --scheduler none cosine"
fi
flock /tmp/pinn-bench.lock bash -c "
  start=\$(date +%s)
  taskset -c 0,1 .venv/bin/pinn sweep lorenz --width 16 64 256 --depth 1 2 4 --activation tanh relu silu \
    $axes --jobs 2 --out runs/sweep-lorenz-$grid \
    --heatmap width,depth --heatmap optimizer,schedule --heatmap activation,depth
  echo \"sweep ($grid) wall time under the lock: \$(( \$(date +%s) - start )) s\""
