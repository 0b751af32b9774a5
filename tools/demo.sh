#!/usr/bin/env bash
# The main job, start to finish: install dependencies, build, record the demo
# program under LTTng, print the per-group report and write the picture
# (trackalloc-demo.png) of every group's live bytes over time.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh
[ -d build ] || meson setup build
meson compile -C build
rm -rf demo-trace
build/trackalloc record -o demo-trace -- build/examples/trackalloc-demo 20000
build/trackalloc report --plot trackalloc-demo.png --csv trackalloc-demo.csv demo-trace >/dev/null
echo "trackalloc: picture written to $(pwd)/trackalloc-demo.png"
