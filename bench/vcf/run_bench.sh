#!/usr/bin/env bash
# Time `pipelines annotate-modules` on a whole-genome VCF.gz against bcftools pass-through (wall time, peak RSS).
#
# Usage: bench/vcf/run_bench.sh [--vcf FILE.vcf.gz] [--indexed | --both] [--repeat N]
#   --vcf FILE   the VCF.gz to use (default bench/out/wgs.vcf.gz, generated with its .tbi when missing)
#   --indexed    run on the file with its .tbi next to it (default: the same file without an index)
#   --both       run the plain variant, then the indexed one
#   --repeat N   run each command N times and keep the fastest run (default 1)
#   --engine E   the annotate-modules engine (polars or duckdb); repeat to time several (default polars)
# Results (a Markdown table plus machine facts) are printed and written to bench/out/vcf_bench/results-*.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)

VCF="$REPO/bench/out/wgs.vcf.gz"
VARIANTS=(plain)
REPEAT=1
ENGINES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --vcf) VCF=$(realpath "$2"); shift 2 ;;
    --indexed) VARIANTS=(indexed); shift ;;
    --both) VARIANTS=(plain indexed); shift ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --engine) ENGINES+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#ENGINES[@]} -gt 0 ] || ENGINES=(polars)

FIXTURES="$REPO/../shared/fixtures/modules"
WORK="$REPO/bench/out/vcf_bench"
MODULES="$REPO/bench/out/modules"
mkdir -p "$WORK"

if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (apt) ..." >&2
  apt-get install -y -qq time >/dev/null
fi
command -v bcftools >/dev/null || { echo "error: bcftools is not installed (apt-get install bcftools)" >&2; exit 2; }

if [ ! -f "$VCF" ]; then
  echo "generating $VCF ..." >&2
  uv run python bench/vcf/generate_wgs_vcf.py --out "$VCF" --index >&2
fi
if [ ! -f "$VCF.tbi" ] && [[ " ${VARIANTS[*]} " == *" indexed "* ]]; then
  echo "indexing $VCF ..." >&2
  tabix -f -p vcf "$VCF"
fi
if [ ! -f "$MODULES/longevitymap/weights.parquet" ]; then
  echo "compiling modules into $MODULES ..." >&2
  uv run pipelines build-modules --sqlite-dir "$FIXTURES" --out "$MODULES" >&2
fi

RECORDS=$( { bcftools index -n "$VCF" 2>/dev/null || bcftools view -H "$VCF" | wc -l; } )
SIZE_MB=$(( $(stat -c %s "$VCF") / 1000000 ))

# Print "wall_seconds peak_rss_kb cpu_percent exit_code" of the fastest of $REPEAT runs of the given command line,
# calling the function named by $1 before each run ("true" for none). The command's output goes to the log $2.
measure() {
  local prepare="$1" log="$2"; shift 2
  local best="" best_rss="" best_cpu="" code=0 i
  for ((i = 1; i <= REPEAT; i++)); do
    "$prepare"
    local timing="$WORK/time.$$.txt"
    set +e
    /usr/bin/time -v -o "$timing" "$@" >"$log" 2>&1
    code=$?
    set -e
    local wall rss cpu
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + p[j]; print s}' "$timing")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$timing")
    cpu=$(awk -F': ' '/Percent of CPU/ {sub("%", "", $2); print $2}' "$timing")
    rm -f "$timing"
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN {exit !(a < b)}'; then
      best=$wall; best_rss=$rss; best_cpu=$cpu
    fi
    [ "$code" -eq 0 ] || break
  done
  echo "$best $best_rss $best_cpu $code"
}

machine_facts() {
  local cpu mem
  cpu=$(awk -F'\t*: ' '/^model name/ {m = $2} /^cpu family/ {f = $2} /^model\t/ {n = $2} /^cpu MHz/ {h = $2}
    END {printf "%s, family %s model %s, %.0f MHz", m, f, n, h}' /proc/cpuinfo)
  grep -q hypervisor /proc/cpuinfo && cpu="$cpu, virtual machine"
  mem=$(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)
  echo "Machine: $(nproc) cores ($cpu), $mem RAM, $(uname -sr); $(bcftools --version | head -1);" \
    "Python $(uv run python -c 'import platform, polars; print(platform.python_version(), "/ polars", polars.__version__)')."
}

run_variant() {
  local variant="$1" dir="$WORK/$variant" file
  rm -rf "$dir"
  mkdir -p "$dir/input" "$dir/output" "$dir/dagster"
  file="$dir/input/wgs.vcf.gz"
  # same bytes either way: a hard link (or copy), with or without the .tbi beside it
  ln -f "$VCF" "$file" 2>/dev/null || cp "$VCF" "$file"
  if [ "$variant" = indexed ]; then
    ln -f "$VCF.tbi" "$file.tbi" 2>/dev/null || cp "$VCF.tbi" "$file.tbi"
  fi
  cat "$file" >/dev/null # warm the page cache so every command starts equal
  local load_before
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)

  export JUST_DNA_PIPELINES_OUTPUT_DIR="$dir/output" JUST_DNA_PIPELINES_INPUT_DIR="$dir/input" DAGSTER_HOME="$dir/dagster"
  # every annotate run starts from empty output and Dagster folders, so nothing is reused from a previous run
  fresh_outputs() { rm -rf "$JUST_DNA_PIPELINES_OUTPUT_DIR" "$DAGSTER_HOME"; mkdir -p "$JUST_DNA_PIPELINES_OUTPUT_DIR" "$DAGSTER_HOME"; }
  local binary text engine
  local -A annot=()
  echo "[$variant] bcftools view -Ou ..." >&2
  binary=$(measure true /dev/null bash -c 'bcftools view -Ou "$1" > /dev/null' _ "$file")
  echo "[$variant] bcftools view ..." >&2
  text=$(measure true /dev/null bash -c 'bcftools view "$1" > /dev/null' _ "$file")
  for engine in "${ENGINES[@]}"; do
    echo "[$variant] pipelines annotate-modules --engine $engine ..." >&2
    annot[$engine]=$(measure fresh_outputs "$dir/annotate-$engine.log" uv run pipelines annotate-modules \
      --vcf "$file" --user bench --modules-source "$MODULES" --engine "$engine" --no-report)
  done

  local out="$WORK/results-$variant.md"
  {
    echo "### $variant file ($( [ "$variant" = indexed ] && echo 'with .tbi' || echo 'no index' ))"
    echo
    echo "$RECORDS records, $SIZE_MB MB; fastest of $REPEAT run(s), page cache warm."
    echo
    echo "| command | wall | peak RSS | CPU | vs \`bcftools view -Ou\` | vs \`bcftools view\` |"
    echo "|---|---|---|---|---|---|"
    row "\`bcftools view -Ou FILE > /dev/null\`" "$binary" "$binary" "$text"
    row "\`bcftools view FILE > /dev/null\`" "$text" "$binary" "$text"
    for engine in "${ENGINES[@]}"; do
      row "\`uv run pipelines annotate-modules --engine $engine --no-report\` (5 modules)" \
        "${annot[$engine]}" "$binary" "$text"
    done
    echo
    machine_facts
    echo "Load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg) (other jobs share the 2 cores)."
    for engine in "${ENGINES[@]}"; do
      echo
      echo "Step timeline of the last \`--engine $engine\` run (from its progress output; t=0 is when progress starts):"
      echo
      echo '```'
      grep -E '^\[ *[0-9.]+s\] |^sample column|^  [a-z0-9_]+ +(done|skipped|failed)' "$dir/annotate-$engine.log" || true
      echo '```'
    done
  } | tee "$out"
  for engine in "${ENGINES[@]}"; do
    if [ "${annot[$engine]##* }" != 0 ]; then
      echo "annotate-modules --engine $engine failed; last lines of $dir/annotate-$engine.log:" >&2
      tail -5 "$dir/annotate-$engine.log" >&2
    fi
  done
}

# One Markdown table row: label, "wall rss cpu exit" of the command, then of the two bcftools baselines.
row() {
  local label="$1"
  read -r w r c code <<<"$2"
  read -r bw _ <<<"$3"
  read -r tw _ <<<"$4"
  awk -v label="$label" -v w="$w" -v r="$r" -v c="$c" -v code="$code" -v bw="$bw" -v tw="$tw" 'BEGIN {
    status = (code == 0) ? "" : sprintf(" (FAILED, exit %d)", code)
    printf "| %s%s | %.2f s | %d MB | %d%% | %.2fx | %.2fx |\n", label, status, w, r / 1024, c, w / bw, w / tw
  }'
}

for variant in "${VARIANTS[@]}"; do
  run_variant "$variant"
done
