#!/usr/bin/env bash
# System prerequisites that npm cannot install: Debian's redis-server and chromium, a JDK and Maven
# for the embedded Neo4j launcher (tools/neo4j-local), whose jars this script also fetches from Maven
# Central so later starts need no network. Safe to run again: it installs only what is missing.
#
# As root it installs with apt-get; otherwise it prints the command to run and exits non-zero.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAUNCHER_DIR="$ROOT/tools/neo4j-local"

# What to check: any of `redis`, `neo4j`, `chromium` (default: all three).
want=" ${*:-redis neo4j chromium} "
wants() { [[ "$want" == *" $1 "* ]]; }

missing=()
if wants redis; then command -v redis-server >/dev/null 2>&1 || missing+=(redis-server); fi
if wants chromium; then command -v chromium >/dev/null 2>&1 || missing+=(chromium); fi

# Neo4j 5.26 runs on Java 17 or 21; javac is needed too, so a JRE alone is not enough.
java_major() {
  local major
  major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)" || true
  echo "${major:-0}"
}
if wants neo4j; then
  if ! command -v javac >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
    missing+=(default-jdk-headless)
  fi
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them as root with:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing: ${missing[*]}"
  apt-get update
  # The redis-server package may try to start its own service; without systemd that is a no-op or a
  # warning, and we never use it: the stack always starts its own redis-server on a port of its choosing.
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# Same build as scripts/stack/neo4j.ts (which skips it when up to date and serialises concurrent builds).
# Without node_modules yet, just let Maven download everything; the TypeScript side finishes the build.
if ! wants neo4j; then
  :
elif [ -x "$ROOT/node_modules/.bin/tsx" ]; then
  (cd "$ROOT" && node --import tsx --input-type=module \
    -e "import { buildNeo4jLauncher } from './scripts/stack/neo4j.ts'; await buildNeo4jLauncher();")
else
  (cd "$LAUNCHER_DIR" && mvn -q -B package dependency:resolve)
fi

echo "System prerequisites in place:${want}"
