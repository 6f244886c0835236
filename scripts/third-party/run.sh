#!/usr/bin/env bash
# Third-party clients against payagg-mock: installs pinned SDK versions into a temporary
# directory (PyPI and npm only), runs `payagg-mock init`, serves it on loopback and drives
# each SDK unmodified. Exits non-zero if any SDK fails. See README.md in this directory.
#
# usage: scripts/third-party/run.sh          (from anywhere; builds payagg-mock if needed)
#   PAYAGG_MOCK=/path/to/payagg-mock   use this binary instead of `cargo build -p payagg-mock`
#   TP_KEEP=1                           keep the temporary directory (printed at the end)
#   TP_TIMEOUT=SECONDS                  bound for each SDK script (default 120)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
T="${TP_TIMEOUT:-120}"

# Pinned versions (checked with `pip index versions` / `npm view`).
WECHATPAYV3=2.0.4
ALIPAY_PY=3.7.1411
ALIPAY_NODE=4.14.0
# The only UnionPay clients on a reachable registry; both are incompatible with UnionPay
# (README.md, "UnionPay"): unionpay_candidates_probe.py pins why, it does not drive a payment.
LESSCODE_PAY=0.0.2
SENWEAVER_PAY=0.1.0

WORK="$(mktemp -d /tmp/payagg-third-party.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  if [ -n "${TP_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ -z "${PAYAGG_MOCK:-}" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/payagg-target}"
  (cd "$REPO" && timeout 900 cargo build -q -p payagg-mock) || { echo "cargo build failed"; exit 1; }
  PAYAGG_MOCK="$CARGO_TARGET_DIR/debug/payagg-mock"
fi

echo "== installing pinned clients into $WORK"
python3 -m venv "$WORK/venv" || exit 1
timeout 300 "$WORK/venv/bin/pip" install -q --disable-pip-version-check \
  "wechatpayv3==$WECHATPAYV3" "alipay-sdk-python==$ALIPAY_PY" || { echo "pip install failed"; exit 1; }
(cd "$WORK" && echo '{"private":true}' > package.json &&
  timeout 300 npm install --silent --no-audit --no-fund "alipay-sdk@$ALIPAY_NODE" >/dev/null 2>&1) ||
  { echo "npm install failed"; exit 1; }

# A venv of their own, so that their dependency pins cannot move the other SDKs' versions.
UP_VENV=
if python3 -m venv "$WORK/venv-up" && timeout 300 "$WORK/venv-up/bin/pip" install -q \
  --disable-pip-version-check "lesscode-pay==$LESSCODE_PAY" "senweaver-pay==$SENWEAVER_PAY"; then
  UP_VENV="$WORK/venv-up"
else
  echo "pip install of the UnionPay candidates failed (lesscode-pay ships x86_64 wheels only)"
fi

"$PAYAGG_MOCK" init "$WORK/setup" >/dev/null || { echo "payagg-mock init failed"; exit 1; }

# serve ADDR LOG: start a simulator (in this shell, so cleanup can stop it), wait for its
# base URL and put it in $URL.
serve() {
  URL=
  "$PAYAGG_MOCK" serve --config "$WORK/setup/mock.json" --listen "$1" >"$2" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    URL="$(sed -n 's/^payagg-mock: serving .* at //p' "$2")"
    [ -n "$URL" ] && return 0
    kill -0 "${PIDS[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

serve 127.0.0.1:0 "$WORK/serve.log" || { cat "$WORK/serve.log"; echo "payagg-mock serve failed"; exit 1; }
BASE="$URL"
echo "== simulator at $BASE"

declare -A RESULT
run() {  # run NAME CMD...
  local name="$1"; shift
  echo "== $name"
  if timeout "$T" "$@"; then RESULT[$name]=pass; else RESULT[$name]="FAIL (exit $?)"; fi
}

run "wechatpayv3@$WECHATPAYV3" "$WORK/venv/bin/python" "$HERE/wechatpayv3_smoke.py" "$BASE" "$WORK/setup"
# The Node SDK formats `timestamp` in the host's zone; Alipay wants China time.
run "alipay-sdk@$ALIPAY_NODE (npm)" env TZ=Asia/Shanghai NODE_PATH="$WORK/node_modules" \
  node "$HERE/alipay_node_smoke.js" "$BASE" "$WORK/setup"
# alipay-sdk-python ignores the port of server_url (always 80): a second simulator on the
# same setup listens on a spare loopback address at port 80 (needs root or
# CAP_NET_BIND_SERVICE; skipped otherwise).
if serve 127.80.0.1:80 "$WORK/serve80.log"; then
  BASE80="$URL"
  run "alipay-sdk-python@$ALIPAY_PY" env TZ=Asia/Shanghai \
    "$WORK/venv/bin/python" "$HERE/alipay_python_smoke.py" "${BASE80%:80}" "$WORK/setup"
else
  echo "== alipay-sdk-python@$ALIPAY_PY: skipped (cannot listen on 127.80.0.1:80)"
  RESULT["alipay-sdk-python@$ALIPAY_PY"]="skipped (port 80)"
fi

UP_NAME="UnionPay candidates: lesscode-pay@$LESSCODE_PAY, senweaver-pay@$SENWEAVER_PAY (expected refusals)"
if [ -n "$UP_VENV" ]; then
  run "$UP_NAME" "$UP_VENV/bin/python" "$HERE/unionpay_candidates_probe.py" "$BASE" "$WORK/setup"
else
  RESULT["$UP_NAME"]="skipped (install)"
fi

echo "== summary"
status=0
for k in "${!RESULT[@]}"; do
  printf '  %-36s %s\n' "$k" "${RESULT[$k]}"
  case "${RESULT[$k]}" in FAIL*) status=1 ;; esac
done
exit $status
