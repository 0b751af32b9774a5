#!/usr/bin/env bash
# The main job, start to finish: install dependencies, build, record the demo
# program under LTTng with sampled allocation stacks, print the per-group
# report and each group's top allocation sites, and write the picture
# (trackalloc-demo.png) of every group's live bytes over time and the flame
# graph (trackalloc-demo-flame.svg) of where each group allocated.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh
[ -d build ] || meson setup build
meson compile -C build
rm -rf demo-trace
build/trackalloc record --stacks=65536 -o demo-trace -- build/examples/trackalloc-demo 20000
# the demo frees everything before it ends: its flame graph weighs bytes allocated
build/trackalloc report --plot trackalloc-demo.png --csv trackalloc-demo.csv \
	--stacks --flame-weight allocated --flamegraph trackalloc-demo-flame.svg demo-trace >/dev/null
echo "trackalloc: picture written to $(pwd)/trackalloc-demo.png"
echo "trackalloc: flame graph written to $(pwd)/trackalloc-demo-flame.svg"
