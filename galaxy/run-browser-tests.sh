#!/usr/bin/env bash
# make galaxy-browser-test: the five tool forms and the workflow in a real browser (headless Chromium from Debian,
# driven by Selenium) against Galaxy 26.1 with its web client, started by galaxy/serve.sh as make galaxy-test
# starts it. Installs what is missing: the Debian packages chromium and chromium-driver (root, or sudo), and
# selenium into .venv-galaxy. Screenshots in galaxy/screenshots/ (not committed; CI keeps them as artefacts).
# Exits non-zero when a check fails; the server is stopped and its files removed in every case.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS=0
if ! command -v chromium > /dev/null || ! command -v chromedriver > /dev/null; then
  echo "galaxy-browser-test: installing chromium and chromium-driver (Debian packages)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  $sudo apt-get update -q < /dev/null > /dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium chromium-driver < /dev/null > /dev/null
fi
# shellcheck source=galaxy/serve.sh
source "$ROOT/galaxy/serve.sh"
galaxy_install
if ! "$GXV/bin/python" -c 'import selenium' 2> /dev/null; then
  "$GXV/bin/pip" install -q "selenium>=4.10,<5"
fi
galaxy_start
status=0
CHROMIUM="$(command -v chromium)" CHROMEDRIVER="$(command -v chromedriver)" \
  "$GXV/bin/python" "$ROOT/galaxy/browser_test.py" "$@" || status=$?
if [ "$status" != 0 ]; then echo "galaxy-browser-test: last lines of the Galaxy log:"; tail -20 "$GALAXY_WORK/galaxy.log"; fi
echo "galaxy-browser-test: done in ${SECONDS} s (exit $status)"
exit $status
