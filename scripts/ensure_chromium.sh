#!/usr/bin/env bash
# Browser tests drive Debian's Chromium. Install it when missing and we may (root with
# apt-get, as on CI); otherwise say so: the browser tests then skip with that reason.
set -u
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests…"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
  echo "warning: could not install chromium; browser tests will be skipped" >&2
  exit 0
fi
echo "note: /usr/bin/chromium is missing (install Debian's 'chromium' package);" \
     "browser tests will be skipped" >&2
exit 0
