#!/usr/bin/env python3
"""Drive the unmodified official Alipay Python SDK (`alipay-sdk-python`) against payagg-mock.

usage: alipay_python_smoke.py BASE_URL SETUP_DIR

Configured only with `server_url = BASE_URL + "/gateway.do"`, the app id, the app private key
(alipay/app_private_key_pkcs1.txt: the SDK wraps it as `RSA PRIVATE KEY`, so it needs the key
tool's PKCS#1 "非Java" form, not the PKCS#8 app_private_key.txt) and the Alipay public
key (alipay/alipayPublicKey_RSA2.txt). This SDK verifies every response's `sign` unless
`skip_sign` is set; it is left off. It has no certificate mode (no app_cert_sn /
alipay_root_cert_sn support), so only public-key mode is driven.

Two quirks of the SDK decide how it must be run (neither is the simulator's doing):
  * `util/WebUtils.get_http_connection` ignores the port of `server_url` (it always connects
    to 80, or 443 for https) and would crash concatenating an int port to the URL; so
    BASE_URL must have no port: run.sh serves a second simulator on 127.80.0.1:80.
    The SDK then sends absolute-form request lines (`POST http://127.80.0.1/gateway.do?…`).
  * `timestamp` is the host's local time; Alipay wants China time: run with TZ=Asia/Shanghai.

Life cycle: precreate -> query (ACQ.TRADE_NOT_EXIST until scanned) -> scan and pay through
the control API -> query TRADE_SUCCESS -> partial refund -> refund query -> a foreign public
key must make the SDK reject the answer. Exits non-zero on failure.
"""

import json
import os
import sys
import urllib.request
import uuid

from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.domain.AlipayTradeFastpayRefundQueryModel import AlipayTradeFastpayRefundQueryModel
from alipay.aop.api.domain.AlipayTradePrecreateModel import AlipayTradePrecreateModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.domain.AlipayTradeRefundModel import AlipayTradeRefundModel
from alipay.aop.api.request.AlipayTradeFastpayRefundQueryRequest import AlipayTradeFastpayRefundQueryRequest
from alipay.aop.api.request.AlipayTradePrecreateRequest import AlipayTradePrecreateRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest

BASE, SETUP = sys.argv[1].rstrip("/"), sys.argv[2]


def read(rel):
    with open(os.path.join(SETUP, rel), encoding="utf-8") as f:
        return f.read().strip()


def control(path):
    req = urllib.request.Request(BASE + path, data=b"{}", headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"    ok  {what}")


def client(public_key):
    config = AlipayClientConfig()
    config.server_url = BASE + "/gateway.do"
    config.app_id = json.load(open(os.path.join(SETUP, "mock.json")))["alipay"]["app_id"]
    config.app_private_key = read("alipay/app_private_key_pkcs1.txt")
    config.alipay_public_key = public_key
    config.timeout = 10
    return DefaultAlipayClient(alipay_client_config=config)


def call(c, request_cls, model):
    req = request_cls(biz_model=model)
    return json.loads(c.execute(req))


def main():
    print("[alipay-sdk-python] public-key mode (app_private_key_pkcs1.txt, alipayPublicKey_RSA2.txt)")
    c = client(read("alipay/alipayPublicKey_RSA2.txt"))
    no = "TP" + uuid.uuid4().hex[:20]
    m = AlipayTradePrecreateModel()
    m.out_trade_no, m.total_amount, m.subject = no, "1.00", "third-party smoke"
    r = call(c, AlipayTradePrecreateRequest, m)
    check(r["code"] == "10000" and r.get("qr_code"), f"precreate {no}: {r['code']} {r.get('qr_code')}")
    q = AlipayTradeQueryModel()
    q.out_trade_no = no
    r = call(c, AlipayTradeQueryRequest, q)
    check(r["code"] == "40004" and r.get("sub_code") == "ACQ.TRADE_NOT_EXIST", f"query before scan: {r['code']} {r.get('sub_code')}")
    control(f"/__mock/orders/alipay/{no}/user-paying")
    r = call(c, AlipayTradeQueryRequest, q)
    check(r["code"] == "10000" and r["trade_status"] == "WAIT_BUYER_PAY", f"query after scan: {r['code']} {r['trade_status']}")
    control(f"/__mock/orders/alipay/{no}/pay")
    r = call(c, AlipayTradeQueryRequest, q)
    check(r["code"] == "10000" and r["trade_status"] == "TRADE_SUCCESS", f"query after pay: {r['code']} {r['trade_status']}")
    rf = AlipayTradeRefundModel()
    rf.out_trade_no, rf.refund_amount, rf.out_request_no = no, "0.30", no + "R1"
    r = call(c, AlipayTradeRefundRequest, rf)
    check(r["code"] == "10000" and r.get("fund_change") == "Y", f"refund 0.30: {r['code']} fund_change={r.get('fund_change')}")
    rq = AlipayTradeFastpayRefundQueryModel()
    rq.out_trade_no, rq.out_request_no = no, no + "R1"
    r = call(c, AlipayTradeFastpayRefundQueryRequest, rq)
    check(r["code"] == "10000" and r.get("refund_amount") == "0.30", f"refund query: {r['code']} refund_amount={r.get('refund_amount')}")

    # Verification is really on: the same answer checked against a foreign key must fail.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    bare = "".join(pem.strip().splitlines()[1:-1])
    try:
        call(client(bare), AlipayTradeQueryRequest, q)
    except Exception as e:  # noqa: BLE001
        check("sign verify failed" in str(e), f"answer checked against a foreign key is rejected ({str(e)[38:70]}…)")
    else:
        raise AssertionError("a foreign Alipay public key was accepted: verification is off")
    print("[alipay-sdk-python] all passed")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        print(f"    FAIL {type(e).__name__}: {e}")
        print("[alipay-sdk-python] failed")
        sys.exit(1)
