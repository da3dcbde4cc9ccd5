#!/usr/bin/env bash
# Mutation testing with gremlins (v0.6.0) on the packages whose rules the
# tests must pin down. Not part of CI: on a 2-core machine shared with other
# work it takes hours (store and store/embedded build and run a large test
# binary per mutant). Prints the efficacy (killed / (killed + lived)) and
# the run time per package; each package's full gremlins output is kept in
# $OUT (default: a temporary directory, printed at the end).
#
#   scripts/mutation.sh                          # every package below
#   scripts/mutation.sh money store/bsondoc      # just these
#   scripts/mutation.sh store/embedded:query.go,commit.go   # these files only
#   SHORT=1 scripts/mutation.sh store/embedded   # tests with -short
#   SKIP='OverWire|FerretDB' scripts/mutation.sh store:ledger.go  # go test -skip
#   RUN='Matcher|Differential' scripts/mutation.sh store/embedded:match.go  # go test -run
#   OMIT=store/embedded/bench_test.go scripts/mutation.sh store/embedded  # leave files out
#   DIFF=3111906 scripts/mutation.sh application:scoring.go  # lines changed since then only
#
# Settings: WORKERS (default 2), COEFFICIENT (timeout coefficient, default
# 10), OUT, SHORT, SKIP, RUN, OMIT, DIFF. Install gremlins with
#   go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
#
# Reliability on a small, shared machine:
#   - gremlins runs on a snapshot of the work tree (tracked and untracked,
#     not ignored files), so edits made while it runs cannot break the
#     mutants' builds; its work copies go beside the snapshot and are
#     removed with it, also when the script is interrupted;
#   - GOFLAGS=-count=1: gremlins times each mutant against the duration of
#     its first (coverage) run; a cached run takes milliseconds and would
#     make every mutant time out;
#   - GOFLAGS=-vet=off: go test vets each mutant's packages before running
#     them, about two thirds of a mutant's CPU time in application (10 s of
#     15); CI vets the real code;
#   - one package at a time, each with its own tests only (a package's
#     subpackages are excluded from its run), under nice -n 19, 2 workers
#     and a timeout coefficient of 10, because the machine is shared and a
#     slow test is not a surviving mutant;
#   - a mutant that hangs the tests is TIMED OUT, which gremlins counts
#     neither as killed nor as lived;
#   - survivors that cannot change behaviour are listed with the reason in
#     docs/mutation-survivors.md. gremlins reports the conditions of switch
#     cases as NOT COVERED (Go's coverage profile has no block for them),
#     however well the tests check them.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v gremlins >/dev/null || {
  echo "mutation.sh: gremlins is not installed:" >&2
  echo "  go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0" >&2
  exit 1
}

packages=("$@")
if [ ${#packages[@]} -eq 0 ]; then
  packages=(application money auth store store/durable store/bsondoc store/embedded)
fi

# Every package and named file must exist, and DIFF be a commit, before
# anything is made: a misspelt file would otherwise mutate nothing and
# still exit 0.
for arg in "${packages[@]}"; do
  pkg=${arg%%:*}
  pkg=${pkg#./}
  pkg=${pkg%/}
  [ -d "$pkg" ] || { echo "mutation.sh: no package $pkg" >&2; exit 1; }
  if [ "$arg" != "${arg#*:}" ]; then
    IFS=, read -r -a named <<<"${arg#*:}"
    [ ${#named[@]} -gt 0 ] || { echo "mutation.sh: no files named after $pkg:" >&2; exit 1; }
    for f in "${named[@]}"; do
      case "$f" in
      *_test.go | */* | "") echo "mutation.sh: $pkg:$f is not a file of the package to mutate" >&2; exit 1 ;;
      esac
      [ -f "$pkg/$f" ] || { echo "mutation.sh: no file $pkg/$f" >&2; exit 1; }
    done
  fi
done
if [ -n "${DIFF:-}" ]; then
  git rev-parse --verify -q "$DIFF^{commit}" >/dev/null || { echo "mutation.sh: DIFF=$DIFF is no commit" >&2; exit 1; }
fi

WORKERS=${WORKERS:-2}
COEFFICIENT=${COEFFICIENT:-10}
OUT=${OUT:-$(mktemp -d /tmp/mutation.XXXXXX)}
mkdir -p "$OUT"

base=$(mktemp -d /tmp/mutation-run.XXXXXX)
snap=$base/tree
mkdir "$snap" "$base/tmp"
gpid=""
cleanup() {
  # gremlins ignores SIGTERM; its process group goes with SIGKILL.
  [ -z "$gpid" ] || kill -9 -- "-$gpid" 2>/dev/null || true
  rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
git ls-files -z --cached --others --exclude-standard |
  grep -zv '^node_modules/' |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -C "$snap/" -xf -
# OMIT: paths (space-separated) left out of the snapshot. For test files
# that hold only benchmarks (go test runs none of them here) but import a
# large package that imports the one mutated, so every mutant rebuilds it:
# store/embedded's bench_test.go imports store, and leaving it out takes a
# mutant's build from about 15 s of CPU to 7 s; the tests run are the same.
for f in ${OMIT:-}; do
  rm -f "$snap/$f"
done
# DIFF=commit: only the mutants on lines changed since that commit
# (gremlins --diff: the hunks of `git diff --merge-base commit`, which
# runs in the snapshot, so it gets a copy of .git). For a file set
# measured before at that commit, whose other lines have not changed.
# Added files count whole, so a commit whose tree lacks some files (and
# the unmeasured end of another) measures just those in one run.
diff_args=()
if [ -n "${DIFF:-}" ]; then
  git rev-parse --verify -q "$DIFF^{commit}" >/dev/null || { echo "mutation.sh: DIFF=$DIFF is no commit" >&2; exit 1; }
  cp -a "$(git rev-parse --git-dir)" "$snap/.git"
  # HEAD at that commit, so that the merge base gremlins takes is the
  # commit itself (it may be one made only for this: a tree without the
  # lines still to measure, whose diff to the work tree is those lines).
  git -C "$snap" update-ref --no-deref HEAD "$(git rev-parse "$DIFF^{commit}")"
  # gremlins names a package's files relative to the package (backup.go)
  # and the diff's relative to the repository (store/backup.go), so
  # nothing would match: git diff runs in the package's directory with
  # paths relative to it (diff.relative), and gremlins is started there.
  git -C "$snap" config diff.relative true
  diff_args=(--diff "$DIFF")
fi
# gremlins' copies of the tree go beside it (not inside: it copies the
# whole module), and are removed with it.
export TMPDIR="$base/tmp"

# -count=1 and -vet=off: see above. SHORT=1 adds -short (store/embedded's differential
# test runs 10 sequences instead of 60: about half the time per mutant,
# a little less thorough).
# SKIP=regexp adds -skip (no spaces): leaves out slow tests of other
# files' rules to measure a file set sooner; what only those tests reach
# is then NOT COVERED, and the efficacy is that of the tests run.
# RUN=regexp adds -run (no spaces): only the tests that own a file's rules
# (a file's own differential test, say); the same caveat.
export GOFLAGS="-count=1 -vet=off${SHORT:+ -short}${SKIP:+ -skip=$SKIP}${RUN:+ -run=$RUN}"
summary=()
for arg in "${packages[@]}"; do
  pkg=${arg%%:*}
  pkg=${pkg#./}
  pkg=${pkg%/}
  [ -d "$snap/$pkg" ] || { echo "mutation.sh: no package $pkg" >&2; exit 1; }
  # The package's own files only: its subpackages get their own run.
  excludes=()
  for sub in "$snap/$pkg"/*/; do
    [ -d "$sub" ] || continue
    excludes+=(--exclude-files "^$(basename "$sub")/")
  done
  # pkg:a.go,b.go mutates only those files of the package.
  if [ "$arg" != "${arg#*:}" ]; then
    only=",${arg#*:},"
    for f in "$snap/$pkg"/*.go; do
      f=$(basename "$f")
      case "$f" in *_test.go) continue ;; esac
      [ "${only#*,"$f",}" != "$only" ] || excludes+=(--exclude-files "^${f//./\\.}\$")
    done
  fi
  log="$OUT/$(echo "$arg" | tr '/:,' '___').txt"
  printf '\n==> %s\n' "$arg"
  start=$(date +%s)
  from=$snap target=./$pkg
  [ -z "${DIFF:-}" ] || { from=$snap/$pkg target=$snap/$pkg; }
  (cd "$from" && exec setsid nice -n 19 gremlins unleash --workers "$WORKERS" \
    --timeout-coefficient "$COEFFICIENT" "${diff_args[@]}" "${excludes[@]}" "$target") >"$log" 2>&1 &
  gpid=$!
  wait "$gpid" || true
  gpid=""
  took=$(($(date +%s) - start))
  grep -E '^(Killed|Timed out|Not covered|Test efficacy|Mutator coverage)' "$log" || true
  grep -E '^ *(LIVED|TIMED OUT)' "$log" || true
  efficacy=$(sed -n 's/^Test efficacy: //p' "$log")
  summary+=("$(printf '%-16s efficacy %-8s %5ss' "$arg" "${efficacy:-?}" "$took")")
done

printf '\n==> Summary (logs in %s)\n' "$OUT"
printf '%s\n' "${summary[@]}"
