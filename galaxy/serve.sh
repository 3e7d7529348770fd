#!/usr/bin/env bash
# Galaxy 26.1 from PyPI (own venv .venv-galaxy, offline) on 127.0.0.1 with the five mrcnn tools: the one way
# make galaxy-test (galaxy/run-tests.sh) and make galaxy-browser-test (galaxy/run-browser-tests.sh) start it.
#
#   bash galaxy/serve.sh            start it and keep it running (Ctrl-C stops it): open the printed URL
#   source galaxy/serve.sh          (from a bash script) defines galaxy_install and galaxy_start
#
# galaxy_install: creates .venv-galaxy with galaxy-app, galaxy-web-apps, galaxy-test-driver and galaxy-web-client
#   (the built browser client, served by Galaxy itself), all of the same 26.1 release.
# galaxy_start: a free port, a scratch directory, a user; sets GALAXY_URL, GALAXY_ADMIN_KEY, GALAXY_USER_KEY,
#   GALAXY_USER_EMAIL, GALAXY_USER_PASSWORD, GALAXY_WORK, GALAXY_PID; the server is stopped and its files removed
#   when the calling shell exits (trap on EXIT, INT, TERM). The mrcnn-* commands come from the project's .venv.
GALAXY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GXV="${GALAXY_VENV:-$GALAXY_ROOT/.venv-galaxy}"
GALAXY_VERSION="${GALAXY_VERSION:-26.1.*}"

galaxy_install() {
  local py="${PYTHON:-python3}"
  if [ ! -x "$GXV/bin/galaxy-web" ]; then
    "$py" -m venv "$GXV"
    "$GXV/bin/pip" install -q --upgrade pip
    "$GXV/bin/pip" install -q "galaxy-app==$GALAXY_VERSION" "galaxy-web-apps==$GALAXY_VERSION" \
      "galaxy-test-driver==$GALAXY_VERSION" "galaxy-web-client==$GALAXY_VERSION"
  fi
  # a .venv-galaxy made before the client was part of it: the client of exactly the installed Galaxy
  if ! "$GXV/bin/python" -c 'import galaxy.web_client' 2>/dev/null; then
    local v
    v=$("$GXV/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-app"))')
    "$GXV/bin/pip" install -q "galaxy-web-client==$v"
  fi
}

_galaxy_cleanup() {
  if [ -n "${GALAXY_PID:-}" ]; then
    kill "$GALAXY_PID" 2>/dev/null || true
    wait "$GALAXY_PID" 2>/dev/null || true
    GALAXY_PID=""
  fi
  if [ -n "${GALAXY_WORK:-}" ] && [ -z "${GALAXY_KEEP:-}" ]; then rm -rf "$GALAXY_WORK"; fi
}

galaxy_start() {
  local py="$GXV/bin/python"
  GALAXY_WORK="$(mktemp -d)"
  GALAXY_PID=""
  trap _galaxy_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local W="$GALAXY_WORK" port
  port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  GALAXY_ADMIN_KEY=$("$py" -c 'import secrets; print(secrets.token_hex(16))')
  GALAXY_USER_EMAIL="admin@example.org"
  GALAXY_USER_PASSWORD="testpass123"
  # only the mrcnn-* commands are exposed: the rest of .venv would shadow Galaxy's own python
  mkdir -p "$W/bin" "$W/data" "$W/tool-data"
  for c in "$GALAXY_ROOT"/.venv/bin/mrcnn-*; do ln -s "$c" "$W/bin/"; done
  { echo '<toolbox monitor="false">'; echo '  <section id="mrcnn" name="MRCNN">'
    for t in "$GALAXY_ROOT"/galaxy/mrcnn_*.xml; do echo "    <tool file=\"$t\"/>"; done
    echo '  </section>'; echo '</toolbox>'; } > "$W/tool_conf.xml"
  # reference data as plain planemo/galaxy test runners find it: galaxy/tool_data_table_conf.xml.test and
  # test-data/fasta_indexes.loc (${__HERE__} paths); the .fai beside the genome is what the wrappers link
  "$GALAXY_ROOT/.venv/bin/python" -c 'import sys, pyfaidx; pyfaidx.Faidx(sys.argv[1])' \
    "$GALAXY_ROOT/test-data/22_20-21M.fa"
  cat > "$W/galaxy.yml" <<YML
gravity:
  galaxy_root: $W
galaxy:
  data_dir: $W/data
  database_connection: sqlite:///$W/data/universe.sqlite?isolation_level=IMMEDIATE
  tool_config_file: $W/tool_conf.xml
  tool_data_table_config_path: $GALAXY_ROOT/galaxy/tool_data_table_conf.xml.test
  tool_data_path: $W/tool-data
  conda_auto_init: false
  conda_auto_install: false
  bootstrap_admin_api_key: $GALAXY_ADMIN_KEY
  admin_users: $GALAXY_USER_EMAIL
  allow_user_creation: true
  require_login: false
  watch_tools: false
  check_migrate_tools: false
  enable_celery_tasks: false
  job_working_directory: $W/data/jobs
  file_path: $W/data/objects
  new_file_path: $W/data/tmp
YML
  echo "galaxy: starting Galaxy on 127.0.0.1:$port (logs in $W/galaxy.log)"
  ( cd "$W" && PATH="$GXV/bin:$W/bin:$PATH" VIRTUAL_ENV="$GXV" exec "$GXV/bin/galaxy-web" -c "$W/galaxy.yml" \
      -b "127.0.0.1:$port" > "$W/galaxy.log" 2>&1 ) &
  GALAXY_PID=$!
  GALAXY_URL="http://127.0.0.1:$port"
  local i
  for i in $(seq 1 180); do
    if curl -sf "$GALAXY_URL/api/version" > /dev/null; then break; fi
    if ! kill -0 "$GALAXY_PID" 2>/dev/null; then tail -30 "$W/galaxy.log"; echo "galaxy: Galaxy did not start"; return 1; fi
    sleep 2
  done
  curl -sf "$GALAXY_URL/api/version" > /dev/null || { tail -30 "$W/galaxy.log"; echo "galaxy: Galaxy did not answer"; return 1; }
  GALAXY_USER_KEY=$("$py" - "$GALAXY_URL" "$GALAXY_ADMIN_KEY" "$GALAXY_USER_EMAIL" "$GALAXY_USER_PASSWORD" <<'PY'
import json, sys, time, urllib.error, urllib.request
url, key, email, password = sys.argv[1:5]
def call(path, data=None):
    req = urllib.request.Request(url + path, data=json.dumps(data).encode() if data is not None else None,
                                 headers={"x-api-key": key, "content-type": "application/json"},
                                 method="POST" if data is not None else "GET")
    return json.load(urllib.request.urlopen(req))
for attempt in range(30):
    try:
        user = call("/api/users", {"username": "tester", "email": email, "password": password})
        break
    except urllib.error.HTTPError as exc:  # the API can answer before user creation is ready
        body = exc.read().decode(errors="replace")
        if attempt == 29:
            sys.exit(f"galaxy: cannot create the test user: {exc} {body}")
        users = [u for u in call("/api/users") if u.get("email") == email]
        if users:
            user = users[0]
            break
        time.sleep(2)
print(call(f"/api/users/{user['id']}/api_key", {}))
PY
  ) || return 1
  export GALAXY_URL GALAXY_ADMIN_KEY GALAXY_USER_KEY GALAXY_USER_EMAIL GALAXY_USER_PASSWORD GALAXY_WORK
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  galaxy_install
  galaxy_start
  echo "galaxy: $GALAXY_URL is ready; log in as $GALAXY_USER_EMAIL / $GALAXY_USER_PASSWORD (Ctrl-C stops it)"
  wait "$GALAXY_PID"
fi
