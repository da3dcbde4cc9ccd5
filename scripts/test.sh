#!/usr/bin/env bash
# Runs every check CI runs, from a fresh machine with Go, Node.js and npm:
# installs what is missing (Debian's Chromium, npm packages from the
# lockfile), then gofmt, the generated-files check, go vet, go test -race,
# and the Playwright browser tests against the real server.
set -euo pipefail
cd "$(dirname "$0")/.."

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # Playwright uses Debian's Chromium
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
step() { printf '\n==> %s\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

for tool in go node npm; do
  command -v "$tool" >/dev/null || die "$tool is not installed (see README: Setup)"
done

step "System packages"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v tesseract >/dev/null || missing+=(tesseract-ocr tesseract-ocr-eng)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
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
for tool in chromium tesseract pdftotext; do
  command -v "$tool" >/dev/null || die "$tool is still missing after apt-get install"
done
has_nginx || die "nginx is still missing after apt-get install"
chromium --version 2>/dev/null
first_line tesseract --version
first_line pdftotext -v
first_line "$(command -v nginx || echo /usr/sbin/nginx)" -v

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

step "gofmt"
unformatted=$(find . -name '*.go' -not -path './node_modules/*' -not -name '*_templ.go' -print0 | xargs -0 gofmt -l)
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

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

step "go vet"
go vet ./...

step "go test -race"
# Every package but the topology test's, which runs next on its own.
go test -race -count=1 $(go list ./... | grep -v '^loandesk/cluster$')

step "Topology: nginx, 3 serve, 2 jobs on one loandesk db (counts printed)"
# -v prints the counts; CI=true makes a missing nginx a failure, never a skip.
CI=true go test -race -count=1 -v ./cluster/

step "Playwright (Chromium)"
npx playwright test
