#!/usr/bin/env bash
# Schemathesis against a live Confab: every operation of /openapi.json, with
# the credential its `security` names (hooks.py), checking that no answer is
# a 5xx, that each answer fits its documented schema and status, and that
# the server is still up at the end.
#
#   tests/schemathesis/run.sh PATH/TO/confab [MAX_EXAMPLES]
#
# Installs the pinned schemathesis in a venv under $HOME/.cache when it is
# missing. The report is left in $CONFAB_ST_REPORT_DIR (default: a temp dir).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
confab="$1"
max_examples="${2:-25}"
version="4.32.5"
venv="${CONFAB_ST_VENV:-$HOME/.cache/confab-schemathesis-$version}"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
    echo "installing schemathesis $version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==$version"
fi
py="$venv/bin/python"

work="$(mktemp -d)"
report="${CONFAB_ST_REPORT_DIR:-$work/report}"
mkdir -p "$report"
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

export CONFAB_ST_SECRET="schemathesis-secret"
export CONFAB_ST_CLIENT_ID="st-client"
export CONFAB_ST_CLIENT_SECRET="st-client-secret"
export CONFAB_ST_YUNBAY_APP="stapp"
export CONFAB_ST_YUNBAY_KEY="0123456789abcdef0123456789abcdef"

CONFAB_LISTEN="127.0.0.1:$port" \
    CONFAB_DATA_DIR="$work/data" \
    CONFAB_ADMIN_SECRET="$CONFAB_ST_SECRET" \
    CONFAB_ADMIN_USER_IDS="st_admin" \
    CONFAB_JWT_SECRET="schemathesis-jwt-key" \
    CONFAB_EASEMOB_CLIENT_ID="$CONFAB_ST_CLIENT_ID" \
    CONFAB_EASEMOB_CLIENT_SECRET="$CONFAB_ST_CLIENT_SECRET" \
    CONFAB_YUNBAY_APP_KEYS="$CONFAB_ST_YUNBAY_APP=$CONFAB_ST_YUNBAY_KEY" \
    CONFAB_SMS_PROVIDER="log" \
    CONFAB_LOG="info" \
    "$confab" serve >"$work/server.log" 2>&1 &
server=$!
stop() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$work/data"
}
trap stop EXIT

for _ in $(seq 1 100); do
    curl -sf "$base/openapi.json" -o "$work/openapi.json" && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.2
done

# `field KEY...`: the value at that path of the JSON on stdin.
field() {
    "$py" -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
if not v:
    sys.exit("no %s in the answer" % ".".join(sys.argv[1:]))
print(v)' "$@"
}
post() { curl -sf -X POST "$base$1" -H 'Content-Type: application/json' -d "$2"; }

# One valid credential of each kind.
CONFAB_ST_ADMIN_TOKEN="$(post /auth/user_token \
    "{\"secret\":\"$CONFAB_ST_SECRET\",\"platform\":5,\"userID\":\"st_admin\"}" | field data token)"
CONFAB_ST_USER_TOKEN="$(post /auth/user_register \
    "{\"secret\":\"$CONFAB_ST_SECRET\",\"platform\":5,\"userID\":\"st_user\",\"nickname\":\"st\"}" |
    field data token)"
CONFAB_ST_APP_TOKEN="$(post /hx/getToken '{}' | field data access_token)"
curl -sf -X POST "$base/sms/send" -d 'nation_code=86&phone=13800000001' >/dev/null
code=""
for _ in $(seq 1 50); do
    code="$(grep -o 'code="\?[0-9]\{4,8\}' "$work/server.log" | grep -o '[0-9]*$' | tail -n1 || true)"
    [ -n "$code" ] && break
    sleep 0.1
done
CONFAB_ST_SESSION_TOKEN="$(curl -sf -X POST "$base/accessuser/signinbysms" \
    -d "nation_code=86&phone=13800000001&check_code=$code&device=web&device_id=st" | field data token)"
register_body='{"user_id":1001}'
sign="$("$py" "$here/hooks.py" sign POST "$base/man/user/register" "$register_body")"
curl -sf -X POST "$base/man/user/register" -H 'Content-Type: application/json' \
    -H "X-Yf-AppId: $CONFAB_ST_YUNBAY_APP" -H "X-Yf-Sign: $sign" -d "$register_body" >/dev/null
CONFAB_ST_YUNBAY_TOKEN="$(curl -sf "$base/man/account/token?user_id=1001" | field data token)"
export CONFAB_ST_ADMIN_TOKEN CONFAB_ST_USER_TOKEN CONFAB_ST_APP_TOKEN CONFAB_ST_SESSION_TOKEN \
    CONFAB_ST_YUNBAY_TOKEN

status=0
# From the temp dir: schemathesis keeps its state (.schemathesis/) in the
# working directory.
cd "$work"
SCHEMATHESIS_HOOKS="$here/hooks.py" "$venv/bin/schemathesis" run "$base/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --max-examples "$max_examples" \
    --workers 2 \
    --seed 13 \
    --generation-with-security-parameters false \
    --generation-database none \
    --request-timeout 10 \
    --no-color \
    --report junit,ndjson --report-dir "$report" \
    2>&1 | tee "$work/schemathesis.log" || status=$?

# A crash shows as a server that no longer answers.
if ! curl -sf "$base/openapi.json" -o /dev/null; then
    echo "the server stopped answering during the run" >&2
    tail -n 50 "$work/server.log" >&2
    status=1
fi
if grep -q 'panicked' "$work/server.log"; then
    echo "the server panicked during the run:" >&2
    grep -A5 'panicked' "$work/server.log" | head -n 40 >&2
    status=1
fi
echo "schemathesis report: $report"
exit "$status"
