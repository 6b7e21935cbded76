#!/bin/bash
# The pass rate of `fibench compare --fail-on` (docs/compare_report.md): 10 x (unchanged A, unchanged
# B, S with a 2x slowdown injected into every kernel by docs/slow_fibench.py) kernels runs with 3
# repetitions, then A vs B (expected: exit 0) and A vs S (expected: exit 1). Usage: docs/compare_passrate.sh DIR [PCT]
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: compare_passrate.sh DIR [PCT]}; pct=${2:-30}
mkdir -p "$dir" && cd "$dir" || exit 2
uptime
for i in 0 1 2 3 4 5 6 7 8 9; do
  fibench run kernels --preset quick --set repeats=3 --out A$i --no-plot --no-progress > /dev/null
  fibench run kernels --preset quick --set repeats=3 --out B$i --no-plot --no-progress > /dev/null
  python "$here/slow_fibench.py" run kernels --preset quick --set repeats=3 --out S$i --no-plot --no-progress > /dev/null
done
uptime
same=0; slow=0
for i in 0 1 2 3 4 5 6 7 8 9; do
  fibench compare A$i B$i --fail-on "$pct" > /dev/null && same=$((same + 1))
  fibench compare A$i S$i --fail-on "$pct" > /dev/null; [ $? -eq 1 ] && slow=$((slow + 1))
done
echo "unchanged passes $same/10; 2x slowdown fails $slow/10 (--fail-on $pct)"
