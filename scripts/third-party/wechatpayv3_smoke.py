#!/usr/bin/env python3
"""Drive the unmodified `wechatpayv3` (PyPI, minibear2021) against payagg-mock.

usage: wechatpayv3_smoke.py BASE_URL SETUP_DIR

BASE_URL is what `payagg-mock serve` prints (http://127.0.0.1:PORT); SETUP_DIR is the
directory `payagg-mock init` wrote. The client is configured only from the files in
SETUP_DIR. wechatpayv3 has no base-URL option (the gateway is the attribute
`Core._gate_way`, fixed to https://api.mch.weixin.qq.com in `Core.__init__`), so the
script overrides that one attribute with a class property; the SDK's code is not touched. Its response-signature
verification is always on: every 2xx answer goes through `Core._verify_signature`, which
raises "failed to verify the signature" on a mismatch.

Three runs, each a full life cycle (Native prepay, query NOTPAY, pay through the control
API, query SUCCESS, the TRANSACTION.SUCCESS notification verified and decrypted by
`callback()`, partial refund, refund query, REFUND.SUCCESS notification):
  1. platform-certificate mode, certificates downloaded from /v3/certificates;
  2. platform-certificate mode, certificate preloaded from cert_dir, then the simulator
     rotates its platform certificate and the client must fetch the new one;
  3. WeChat Pay public-key mode (public_key + public_key_id).
Exits non-zero on the first failure.
"""

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

from wechatpayv3 import WeChatPay, WeChatPayType

BASE, SETUP = sys.argv[1].rstrip("/"), sys.argv[2]
CFG = json.load(open(os.path.join(SETUP, "mock.json")))["wechat"]


def read(rel):
    with open(os.path.join(SETUP, rel), encoding="utf-8") as f:
        return f.read()


def merchant_serial():
    from cryptography.x509 import load_pem_x509_certificate

    cert = load_pem_x509_certificate(read("wechat/apiclient_cert.pem").encode())
    return format(cert.serial_number, "X")


def control(path, body=None):
    req = urllib.request.Request(
        BASE + path,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


class Inbox(BaseHTTPRequestHandler):
    """Notify URL: keeps every notification, answers 200 so the simulator stops retrying."""

    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Inbox.received.append((dict(self.headers.items()), body.decode("utf-8")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"code":"SUCCESS","message":"OK"}')

    def log_message(self, *a):
        pass


def wait_notification(event_type, out_no, wxpay, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for headers, body in list(Inbox.received):
            if json.loads(body).get("event_type") != event_type:
                continue
            data = wxpay.callback(headers, body)  # verifies the signature, decrypts
            if data is None:
                raise AssertionError(f"{event_type}: callback() rejected the notification")
            res = data["resource"]
            if res.get("out_trade_no") == out_no or res.get("out_refund_no") == out_no:
                return res
        time.sleep(0.1)
    raise AssertionError(f"no {event_type} notification for {out_no} within {timeout}s")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"    ok  {what}")


def life_cycle(label, wxpay, rotate=False):
    print(f"[wechatpayv3] {label}")
    no = "TP" + uuid.uuid4().hex[:20]
    code, msg = wxpay.pay(description="third-party smoke", out_trade_no=no, amount={"total": 100})
    check(code == 200 and "code_url" in json.loads(msg), f"native prepay {no}: {code} {msg}")
    code, msg = wxpay.query(out_trade_no=no)
    check(code == 200 and json.loads(msg)["trade_state"] == "NOTPAY", f"query: {code} NOTPAY")
    control(f"/__mock/orders/wechat/{no}/pay", {"payer": "o-third-party-payer"})
    if rotate:
        serial = control("/__mock/wechat/rotate-certificate", {"overlap_seconds": 3600})
        print(f"    ..  platform certificate rotated to {serial}")
    code, msg = wxpay.query(out_trade_no=no)
    tx = json.loads(msg)
    check(code == 200 and tx["trade_state"] == "SUCCESS", f"query after pay: {code} SUCCESS")
    code, msg = wxpay.query(transaction_id=tx["transaction_id"])
    check(code == 200 and json.loads(msg)["out_trade_no"] == no, f"query by id: {code}")
    res = wait_notification("TRANSACTION.SUCCESS", no, wxpay)
    check(res["trade_state"] == "SUCCESS", "TRANSACTION.SUCCESS verified and decrypted")
    rno = "TR" + uuid.uuid4().hex[:20]
    code, msg = wxpay.refund(
        out_refund_no=rno, out_trade_no=no, amount={"refund": 30, "total": 100, "currency": "CNY"}
    )
    check(code == 200 and json.loads(msg)["status"] in ("PROCESSING", "SUCCESS"), f"refund 0.30: {code} {json.loads(msg)['status']}")
    code, msg = wxpay.query_refund(out_refund_no=rno)
    check(code == 200 and json.loads(msg)["status"] == "SUCCESS", f"refund query: {code} SUCCESS")
    res = wait_notification("REFUND.SUCCESS", rno, wxpay)
    check(res["refund_status"] == "SUCCESS", "REFUND.SUCCESS verified and decrypted")
    code, msg = wxpay.query(out_trade_no=no)
    check(code == 200 and json.loads(msg)["trade_state"] == "REFUND", f"query after refund: {code} REFUND")
    # Verification is really on: a WECHATPAY/SIGNTEST probe signature must be rejected.
    control("/__mock/faults", {"fault": {"kind": "sign_test"}, "scope": {"next": 1}, "endpoint": "wechat.query"})
    try:
        wxpay.query(out_trade_no=no)
    except Exception as e:  # noqa: BLE001
        check("verify" in str(e) or "signature" in str(e).lower(), f"probe signature rejected: {e}")
    else:
        raise AssertionError("a WECHATPAY/SIGNTEST answer was accepted: verification is off")


def main():
    inbox = HTTPServer(("127.0.0.1", 0), Inbox)
    threading.Thread(target=inbox.serve_forever, daemon=True).start()
    notify_url = f"http://127.0.0.1:{inbox.server_port}/wxpay/notify"
    common = dict(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=CFG["mchid"],
        private_key=read("wechat/apiclient_key.pem"),
        cert_serial_no=merchant_serial(),
        appid=CFG["appid"],
        apiv3_key=read("wechat/apiv3_key.txt").strip(),
        notify_url=notify_url,
        timeout=(5, 10),
    )

    # The only adaptation: point the SDK at the simulator. Core.__init__ assigns
    # `self._gate_way` and then (certificate mode) calls /v3/certificates at once, so the
    # attribute is made a class-level property whose setter ignores the hard-coded host.
    from wechatpayv3 import core

    core.Core._gate_way = property(lambda self: BASE, lambda self, value: None)

    def client(**kw):
        return WeChatPay(**common, **kw)

    failures = 0
    runs = []
    runs.append(("platform certificate, downloaded from /v3/certificates", lambda: client(), False))
    cert_dir = tempfile.mkdtemp(prefix="wxcerts-")
    shutil.copy(os.path.join(SETUP, "wechat/wechatpay_platform_cert.pem"), cert_dir)
    runs.append(("platform certificate from cert_dir, rotated mid-run", lambda: client(cert_dir=cert_dir), True))
    runs.append(
        (
            "WeChat Pay public key (pub_key.pem + pub_key_id.txt)",
            lambda: client(public_key=read("wechat/pub_key.pem"), public_key_id=read("wechat/pub_key_id.txt").strip()),
            False,
        )
    )
    for label, make, rotate in runs:
        try:
            life_cycle(label, make(), rotate)
        except Exception as e:  # noqa: BLE001 — report and go on to the next mode
            failures += 1
            print(f"    FAIL {type(e).__name__}: {e}")
    inbox.shutdown()
    print("[wechatpayv3] " + ("all passed" if not failures else f"{failures} run(s) failed"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
