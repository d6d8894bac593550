#!/usr/bin/env bash
# Debian's chromium for the browser test: installed with apt-get when missing and root.
# Playwright drives it; we never run `playwright install`.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "browser test: installing Debian's chromium with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  [ -x /usr/bin/chromium ] && exit 0
fi
echo "##########################################################################"
echo "# SKIPPED: the browser test needs /usr/bin/chromium (Debian's chromium).  #"
echo "# Install it with: sudo apt-get install chromium                          #"
echo "##########################################################################"
exit 3
