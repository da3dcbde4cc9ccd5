# syntax=docker/dockerfile:1
#
# Loan Desk images, from one build of a static binary:
#
#   docker build -t loandesk .                          # web (the last stage)
#   docker build --target jobs -t loandesk-jobs .       # job runner: tesseract + poppler + jpegtran for OCR
#
# Pass the release for `loandesk version` (the build has no .git):
#   --build-arg VERSION=v1.2.3 --build-arg REVISION=$(git rev-parse HEAD)
#
# Both run as a non-root user, need no writable root filesystem (OCR
# writes to /tmp: mount a tmpfs or emptyDir there) and take their
# configuration from the environment (see `docker run loandesk help`).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-trixie AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=""
ARG REVISION=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -buildvcs=false -ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/loandesk . \
 && /out/loandesk version \
 && mkdir -p /out/data

# The job runner: OCR needs pdftotext and pdftoppm (poppler), tesseract and
# jpegtran (libjpeg-turbo-progs: turns phone photos upright), each run
# under prlimit (util-linux: essential, in the base image; without it no
# document is read).
FROM debian:trixie-slim AS jobs
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tesseract-ocr tesseract-ocr-eng poppler-utils libjpeg-turbo-progs \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin loandesk
COPY --from=build /out/loandesk /usr/local/bin/loandesk
COPY --from=build --chown=10001:10001 /out/data /data
ENV DATA_DIR=/data METRICS_ADDR=:9090
USER 10001:10001
# Metrics (the runner has no other port).
EXPOSE 9090
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/loandesk", "health", "-url", "http://127.0.0.1:9090/metrics"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/loandesk"]
CMD ["jobs"]

# The web server: a static binary on distroless (no shell, no package
# manager), user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot AS web
COPY --from=build /out/loandesk /usr/local/bin/loandesk
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATA_DIR=/data PORT=3001
USER 65532:65532
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/loandesk", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/loandesk"]
CMD ["serve"]
