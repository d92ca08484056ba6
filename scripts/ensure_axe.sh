#!/usr/bin/env bash
# The accessibility browser tests inject axe-core (pinned in tests/browser/package-lock.json)
# into each page. Install it with npm when npm is there; otherwise say so: those tests then
# skip with that reason.
set -u
DIR="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
if [ -f "$DIR/node_modules/axe-core/axe.min.js" ] \
   && [ "$DIR/node_modules/.package-lock.json" -nt "$DIR/package-lock.json" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "note: npm is missing (install Node.js and npm); the axe-core accessibility" \
       "tests will be skipped" >&2
  exit 0
fi
echo "installing axe-core for the accessibility tests…"
if ! npm ci --prefix "$DIR" --no-audit --no-fund --silent; then
  echo "warning: 'npm ci' failed; the axe-core accessibility tests will be skipped" >&2
fi
exit 0
