#!/usr/bin/env bash
# Runs every check CI runs, from a fresh machine with Go, Node.js and npm:
# installs what is missing (Debian's Chromium, npm packages from the
# lockfile), then gofmt, the generated-files check, go vet, go test -race,
# and the Playwright browser tests against the real server (the Go tests
# run beside Playwright; a table of each step's wall and CPU time ends it).
set -euo pipefail
cd "$(dirname "$0")/.."

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # Playwright uses Debian's Chromium
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
# Each step's wall time, CPU time (this script's children, in seconds)
# and the load average when it began, printed as a table at the end (or
# at a failure): on the 2-core machine the CPU column is what a change
# saves or costs, the wall column depends on what else runs.
step_names=() step_walls=() step_cpus=() step_loads=()
cpu_ticks() { # user+system ticks of shell $1 (this script) and its waited children
  local s
  read -r s </proc/"${1:-$$}"/stat
  set -- ${s##*) }
  echo $((${12} + ${13} + ${14} + ${15}))
}
now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }
ticks_per_s=$(getconf CLK_TCK)
end_step() {
  [ ${#step_names[@]} -gt 0 ] || return 0
  local i=$((${#step_names[@]} - 1))
  [ -z "${step_walls[$i]}" ] || return 0
  step_walls[$i]=$(($(now_ms) - step_began_ms))
  step_cpus[$i]=$((($(cpu_ticks) - step_began_ticks) * 1000 / ticks_per_s))
}
print_times() {
  end_step
  local i total_wall=0 total_cpu=0
  printf '\n%-52s %8s %8s  %s\n' "step" "wall s" "CPU s" "load at start"
  for i in "${!step_names[@]}"; do
    printf '%-52.52s %8.1f %8.1f  %s\n' "${step_names[$i]}" "${step_walls[$i]}e-3" "${step_cpus[$i]}e-3" "${step_loads[$i]}"
    total_wall=$((total_wall + step_walls[i])) total_cpu=$((total_cpu + step_cpus[i]))
  done
  printf '%-52s %8.1f %8.1f  %s\n' "total" "${total_wall}e-3" "${total_cpu}e-3" "$(cut -d' ' -f1-3 /proc/loadavg) at the end"
}
trap print_times EXIT
step() {
  end_step
  printf '\n==> %s\n' "$*"
  step_names+=("$*") step_walls+=("") step_cpus+=("")
  step_loads+=("$(cut -d' ' -f1-3 /proc/loadavg)")
  step_began_ms=$(now_ms) step_began_ticks=$(cpu_ticks)
}
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

for tool in go node npm; do
  command -v "$tool" >/dev/null || die "$tool is not installed (see README: Setup)"
done

step "System packages"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v tesseract >/dev/null || missing+=(tesseract-ocr tesseract-ocr-eng)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
command -v jpegtran >/dev/null || missing+=(libjpeg-turbo-progs)
# nginx: the load balancer of the topology test (cluster/); Debian puts
# it in /usr/sbin, which a non-root PATH may lack.
has_nginx() { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }
has_nginx || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# First lines only, without a pipe into head: under pipefail a tool that
# is still writing when head exits dies of SIGPIPE and fails the run.
first_line() { local out; out=$("$@" 2>&1) || true; printf '%s\n' "${out%%$'\n'*}"; }
for tool in chromium tesseract pdftotext jpegtran; do
  command -v "$tool" >/dev/null || die "$tool is still missing after apt-get install"
done
has_nginx || die "nginx is still missing after apt-get install"
chromium --version 2>/dev/null
first_line tesseract --version
first_line pdftotext -v
first_line "$(command -v nginx || echo /usr/sbin/nginx)" -v

# go vet type-checks every package (seconds of CPU per package on a
# clean clone) while npm ci mostly waits on the network and the disk:
# it runs beside npm ci and gofmt, its output kept and shown after them.
# It reads the sources only; the generated-files check, which may
# rewrite views/*_templ.go, waits for it.
vet_log=$(mktemp)
go vet ./... >"$vet_log" 2>&1 &
vet_pid=$!

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "gofmt"
unformatted=$(find . -name '*.go' -not -path './node_modules/*' -not -name '*_templ.go' -print0 | xargs -0 gofmt -l)
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

step "go vet (begun before npm ci)"
vet_rc=0
wait "$vet_pid" || vet_rc=$?
cat "$vet_log"
rm -f "$vet_log"
[ "$vet_rc" -eq 0 ] || die "go vet failed"

step "Generated files are up to date (templ, Tailwind CSS)"
generated() { find views -name '*_templ.go' | sort | xargs sha256sum; sha256sum static/app.css; }
before=$(generated)
go tool templ generate >/dev/null
npx tailwindcss -c tailwind.config.js -i static/src/app.css -o static/app.css --minify 2>/dev/null
after=$(generated)
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after") || true
  die "regenerating changed the files above: run 'go tool templ generate && npm run css' and commit the result"
fi

# The Go tests (then the topology test) and Playwright run at once: a
# Playwright test is one browser's steps in a row and leaves much of the
# two cores idle (waits on the server, on polls, on OCR jobs), which the
# Go tests fill. The Go side's output is kept and shown after
# Playwright's, with its own times; both must pass. TEST_SERIAL=1 runs
# them one after the other instead (to time or debug one side alone).
go_tests() {
  local began rc=0 me=$BASHPID ticks
  began=$(now_ms) ticks=$(cpu_ticks "$me")
  printf '\n==> go test -race\n'
  # Every package but the topology test's, which runs next on its own.
  # -timeout: a package's whole run, not any check; go test's default
  # 10 minutes was nearly reached by the store package (585 s) on a
  # machine loaded to 20 by other work.
  go test -race -count=1 -timeout 30m $(go list ./... | grep -v '^loandesk/cluster$') || rc=$?
  printf '(go test -race: %d s wall, %d s CPU)\n' $((($(now_ms) - began) / 1000)) $((($(cpu_ticks "$me") - ticks) / ticks_per_s))
  [ "$rc" -eq 0 ] || return "$rc"
  began=$(now_ms) ticks=$(cpu_ticks "$me")
  printf '\n==> Topology: nginx, 3 serve, 2 jobs on one loandesk db (counts printed)\n'
  # -v prints the counts; CI=true makes a missing nginx a failure, never a skip.
  CI=true go test -race -count=1 -timeout 30m -v ./cluster/ || rc=$?
  printf '(topology: %d s wall, %d s CPU)\n' $((($(now_ms) - began) / 1000)) $((($(cpu_ticks "$me") - ticks) / ticks_per_s))
  return "$rc"
}

if [ "${TEST_SERIAL:-}" = 1 ]; then
  step "go test -race, then the topology test"
  go_tests
  step "Playwright (Chromium)"
  npx playwright test
  exit 0
fi

step "Playwright (Chromium) beside go test -race and the topology test"
go_log=$(mktemp)
go_tests >"$go_log" 2>&1 &
go_pid=$!
pw_rc=0 pw_began=$(now_ms)
npx playwright test || pw_rc=$?
printf '(Playwright: %d s wall)\n' $((($(now_ms) - pw_began) / 1000))
go_rc=0
wait "$go_pid" || go_rc=$?
cat "$go_log"
rm -f "$go_log"
[ "$go_rc" -eq 0 ] || die "go test failed (its output is above)"
[ "$pw_rc" -eq 0 ] || die "Playwright failed (its output is above the Go tests')"
