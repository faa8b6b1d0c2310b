#!/usr/bin/env bash
# The report test renders the HTML in Debian's headless Chromium. Install it when we can (root + apt);
# otherwise say so once: that test then skips with the reason, never silently passes.
set -u
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the report test (once)…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "could not install chromium: the headless report test will be skipped"
else
  echo "chromium is not installed (sudo apt-get install chromium): the headless report test will be skipped"
fi
exit 0
