#!/usr/bin/env bash
# Validate docker-compose.yml with the real Compose (`docker compose config -q`). No Docker engine is
# needed for this. When the Compose plugin is missing it is built from its Go module (needs Go).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! docker compose version >/dev/null 2>&1; then
  echo "docker compose plugin missing: building it with go install (a few minutes) ..."
  dir="${HOME}/.docker/cli-plugins"
  mkdir -p "$dir"
  GOBIN="$(mktemp -d)" && export GOBIN
  go install github.com/docker/compose/v2/cmd@v2.29.7
  mv "$GOBIN/cmd" "$dir/docker-compose"
fi
docker compose config -q
docker compose --env-file .env.example config -q
echo "docker compose config: OK"
