#!/usr/bin/env bash
# Run the workspace's test binaries and the examples binary (the tour) under
# valgrind memcheck. Any memory error, or any "definitely lost" block, fails.
#
#   scripts/valgrind.sh            full: every integration-test binary of the
#                                  workspace, pygc's unit tests, the tour
#   scripts/valgrind.sh --quick    CI-sized (~5 min): refcount, cycles,
#                                  finalize, weakref, regressions, model,
#                                  unsized, sync_unsized, rc_api
#                                  (few proptest cases) and the tour, without
#                                  the slowest tests
#   scripts/valgrind.sh --release  use the release profile (faster; no
#                                  debug assertions, so no list validation)
#   scripts/valgrind.sh --no-pool  pygc without its `pool` feature: every
#                                  object is its own malloc'd block, so
#                                  memcheck sees each object's lifetime (the
#                                  pool hides use-after-free of pooled
#                                  objects); gc-tests' binaries only
#   VALGRIND_PROPTEST_CASES=N      proptest cases per property (default:
#                                  64 full, 16 quick)
#
# Suppressed: only the per-thread heap a thread leaks, by design, when it
# exits with live objects (scripts/valgrind.supp says why).
#
# Logs: target/valgrind/<binary>.log. The summary printed at the end has
# each binary's ERROR SUMMARY and "definitely lost" line.
#
# Skipped under valgrind, by libtest `--skip` patterns:
# * tests that re-run the test binary in a child process (abort on a
#   panicking Trace impl or a count overflow, stderr capture of debug
#   output, the tour's process test): valgrind does not follow children, so
#   the child would run natively and check nothing, while the parent only
#   waits for it;
# * `ui` (trybuild compiles crates with rustc: no heap code of ours runs)
#   and `loom` (empty without `--cfg loom`);
# * in --quick mode only, the slowest tests (the 10-million-node chain, the
#   huge ring, the randomized soak, the 100 000-object callback).

set -euo pipefail

mode=full
no_pool=0
profile_args=()
for arg in "$@"; do
    case "$arg" in
    --quick) mode=quick ;;
    --release) profile_args=(--release) ;;
    --no-pool) no_pool=1 ;;
    -h | --help)
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "valgrind.sh: unknown argument: $arg" >&2
        exit 2
        ;;
    esac
done

cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "valgrind.sh: valgrind not found (apt-get install valgrind)" >&2
    exit 2
fi
if ! command -v python3 >/dev/null; then
    echo "valgrind.sh: python3 is needed to read cargo's JSON messages" >&2
    exit 2
fi

logdir=target/valgrind
mkdir -p "$logdir"

# Build everything first; collect "kind name executable" triples.
list_artifacts() {
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    t = m["target"]
    print(t["kind"][0], t["name"], "test" if m["profile"]["test"] else "run", m["executable"])
'
}

echo "== building test binaries (${profile_args[*]:-debug})"
if [[ $no_pool == 1 ]]; then
    # Only gc-tests, so that no other package turns pygc's `pool` back on.
    tests=$(cargo test -p gc-tests --no-default-features --no-run "${profile_args[@]}" \
        --message-format=json | list_artifacts)
    examples=""
else
    tests=$(cargo test --workspace --no-run "${profile_args[@]}" --message-format=json | list_artifacts)
    echo "== building the examples binary"
    examples=$(cargo build -p gc-examples --bins "${profile_args[@]}" --message-format=json | list_artifacts)
fi

# Tests skipped in every mode (see the header).
skips=(
    panic_inside_trace       # child aborts (hostile, regressions)
    count_overflow_aborts    # child aborts (refcount, regressions)
    debug_output_goes_to_stderr # child's stderr (gc_api)
)
quick_skips=(
    dropping_a_long_chain_does_not_overflow_the_stack
    huge_ring_on_a_small_stack
    randomized_soak
    gc_callback_allocating_100_000_objects
    byte_encoding_round_trips
)
if [[ $mode == quick ]]; then
    wanted=" refcount cycles finalize weakref regressions model tour pool pool_off unsized sync_unsized rc_api "
    cases=${VALGRIND_PROPTEST_CASES:-16}
    skips+=("${quick_skips[@]}")
else
    wanted=""
    cases=${VALGRIND_PROPTEST_CASES:-64}
fi
skip_args=()
for s in "${skips[@]}"; do skip_args+=(--skip "$s"); done
# The tour's tests that spawn the examples binary (or `dot`).
tour_skips=(--skip binary_ --skip objgraph_pictures_)

vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --num-callers=30 --suppressions=scripts/valgrind.supp)

export PROPTEST_CASES=$cases RUST_BACKTRACE=0

failed=()
summary=()
run_one() { # name, then the command
    local name=$1
    shift
    local log=$logdir/$name.log
    local start=$SECONDS
    echo "== $name ($mode)"
    local status=0
    "${vg[@]}" --log-file="$log" "$@" >"$logdir/$name.out" 2>&1 || status=$?
    local errors lost
    errors=$(grep -h 'ERROR SUMMARY' "$log" | head -1 | sed 's/^==[0-9]*== //')
    lost=$(grep -h 'definitely lost:' "$log" | head -1 | sed 's/^==[0-9]*== *//')
    summary+=("$(printf '%-18s %4ss  %s | %s' "$name" $((SECONDS - start)) "${errors:-no summary}" "${lost:-definitely lost: 0 bytes}")")
    if [[ $status != 0 ]]; then
        failed+=("$name")
        echo "   FAILED (exit $status): see $log and $logdir/$name.out"
        tail -5 "$logdir/$name.out" | sed 's/^/   | /'
    fi
}

while read -r kind name how exe; do
    [[ -z ${exe:-} || $how != test ]] && continue
    case "$kind:$name" in
    test:ui | test:loom) continue ;;
    test:*) ;;
    lib:pygc) [[ $mode == quick ]] && continue ;;
    *) continue ;;
    esac
    if [[ -n $wanted && $wanted != *" $name "* ]]; then
        continue
    fi
    label=$name
    [[ $kind == lib ]] && label="$name-unit"
    extra=()
    [[ $name == tour ]] && extra=("${tour_skips[@]}")
    run_one "$label" "$exe" -q --test-threads=1 "${skip_args[@]}" "${extra[@]}"
done <<<"$tests"

# The examples binary: the tour, every section.
while read -r kind name how exe; do
    if [[ $kind == bin && $name == gc-examples && $how == run ]]; then
        run_one "gc-examples-tour" "$exe"
    fi
done <<<"$examples"

echo
echo "== valgrind summary ($mode, PROPTEST_CASES=$cases)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all clean"
