#!/usr/bin/env python3
"""Probe the only UnionPay clients on a registry reachable here, unmodified, against payagg-mock.

usage: unionpay_candidates_probe.py BASE_URL SETUP_DIR

No registry reachable from the project's machines (PyPI, npm, crates.io, Debian) carries a
UnionPay ACP 5.1.0 client that can talk to UnionPay (see README.md, "UnionPay"). The two PyPI
packages that claim UnionPay support, lesscode-pay 0.0.2 and senweaver-pay 0.1.0, get the
signature wrong for every ACP version, so the real gateway would refuse them exactly as the
simulator does. This script keeps that finding reproducible instead of merely asserted:

  * lesscode-pay: its consume form is posted to the simulator's frontTransReq.do as a browser
    would; the simulator must refuse it (respCode 13, certId missing). Its signature is checked
    to be SHA256withRSA over the raw `k=v&…` string, where ACP 5.1.0 signs the lower-case hex
    SHA-256 of that string (official SDK: SecureUtil.sha256X16 then signBySoft256).
    Its verify_notify must reject a genuine, simulator-signed UnionPay answer that verifies
    under the official scheme (signPubKeyCert chained to the middle and root certificates).
  * senweaver-pay: web() must return no form or fields (its form building is commented out),
    and callback() must reject the same genuine answer (it verifies with a file path instead of
    a key, after dropping the signed signMethod field, so it can accept nothing).

Each check that passes confirms a client defect (documented in README.md) and that the
simulator refuses what UnionPay refuses; a check that fails means the diagnosis is stale.
Exits non-zero if any check fails.
"""

import base64
import hashlib
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

BASE, SETUP = sys.argv[1].rstrip("/"), sys.argv[2]
UP = os.path.join(SETUP, "unionpay")


def read(name):
    with open(os.path.join(UP, name), encoding="utf-8") as f:
        return f.read()


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"    ok  {what}")


def post_form(path, fields):
    body = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(
        BASE + path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read().decode("utf-8")


def parse_raw_answer(text):
    """A synchronous ACP answer: `k=v&…`, values raw (signPubKeyCert holds CR LF and `+`)."""
    out, key = {}, None
    for part in text.split("&"):
        m = re.match(r"^([A-Za-z][A-Za-z0-9]*)=(.*)$", part, re.S)
        if m:
            key = m.group(1)
            out[key] = m.group(2)
        elif key is not None:  # an '&' inside a value
            out[key] += "&" + part
    return out


def string_to_sign(fields):
    return "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "signature")


def official_verify(fields, middle, root):
    """ACP 5.1.0 answer check as the official SDKs do it: signPubKeyCert issued by the middle
    certificate, the middle by the root, then SHA256withRSA over hex(SHA-256(string))."""
    cert = x509.load_pem_x509_certificate(fields["signPubKeyCert"].encode())
    try:
        cert.verify_directly_issued_by(middle)
        middle.verify_directly_issued_by(root)
        digest_hex = hashlib.sha256(string_to_sign(fields).encode()).hexdigest()
        cert.public_key().verify(
            base64.b64decode(fields["signature"]), digest_hex.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return True
    except Exception:
        return False


def rsa_ok(pub, sig_b64, data):
    try:
        pub.verify(base64.b64decode(sig_b64), data.encode(), padding.PKCS1v15(), hashes.SHA256())
        return True
    except Exception:
        return False


def raw_signed(fields, key):
    """The fields re-signed the way both candidates sign: SHA256withRSA over the raw string."""
    out = {k: v for k, v in fields.items() if k != "signature"}
    sig = key.sign(string_to_sign(out).encode(), padding.PKCS1v15(), hashes.SHA256())
    out["signature"] = base64.b64encode(sig).decode()
    return out


def main():
    mer_id = read("mer_id.txt").strip()
    key_pem = read("acp_test_sign_key.pem")
    mer_cert = x509.load_pem_x509_certificate(read("acp_test_sign_cert.pem").encode())
    middle = x509.load_pem_x509_certificate(read("acp_test_middle.cer").encode())
    root = x509.load_pem_x509_certificate(read("acp_test_root.cer").encode())
    order_id = "TP" + time.strftime("%Y%m%d%H%M%S")
    back_url, front_url = BASE + "/merchant/back", BASE + "/merchant/front"
    failures = 0

    # A genuine UnionPay-signed answer from the simulator: any signed refusal will do, and
    # one can be had without a correct request (a back request with no signature).
    status, text = post_form(
        "/gateway/api/backTransReq.do",
        {"version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "merId": mer_id},
    )
    genuine = parse_raw_answer(text)
    check(status == 200 and genuine.get("respCode") == "13", f"signed refusal from the simulator ({genuine.get('respCode')})")
    check(official_verify(genuine, middle, root), "it verifies under ACP 5.1.0 (hex digest, chain to middle/root)")
    # The simulator's signer key, only to show what each client would accept.
    signer_key = serialization.load_pem_private_key(read("simulator/acp_sign_key.pem").encode(), None)
    signer_pub_pem = (
        x509.load_pem_x509_certificate(genuine["signPubKeyCert"].encode())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    print("== lesscode-pay (UnionPayClient, configured with merId, the merchant key, UnionPay's public key)")
    try:
        import lesscode_pay

        client = lesscode_pay.UnionPayClient(mer_id, key_pem, signer_pub_pem, True)
        form = client.create_pay_form(order_id, "100", back_url, front_url, "third-party probe")
        action = re.search(r'action="([^"]+)"', form).group(1)
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
        check("95516.com" in action, f"form action is hard-coded ({action}); no base-URL option")
        check("certId" not in fields, "form has no certId (ACP 5.1.0 requires it with signMethod 01)")
        mer_pub = mer_cert.public_key()
        raw = string_to_sign(fields)
        check(rsa_ok(mer_pub, fields["signature"], raw), "signature is SHA256withRSA over the raw string")
        check(
            not rsa_ok(mer_pub, fields["signature"], hashlib.sha256(raw.encode()).hexdigest()),
            "not over its hex SHA-256, as ACP 5.1.0 signs",
        )
        status, page = post_form("/gateway/api/frontTransReq.do", fields)
        check(
            'id="respCode">13<' in page and "[certId]" in page,
            "the simulator refuses the form as the gateway does: respCode 13 [certId]",
        )
        # Complete the form with what ACP 5.1.0 requires and sign it with the library's own
        # sign(): the certId is then right, and only the signature scheme differs.
        fields.pop("signature")
        fields.update(certId=str(mer_cert.serial_number), accessType="0", currencyCode="156", channelType="07")
        fields["signature"] = client.sign(json.dumps(fields))
        status, page = post_form("/gateway/api/frontTransReq.do", fields)
        check(
            'id="respCode">11<' in page,
            "completed with certId and signed by its own sign(): refused, respCode 11 (signature)",
        )
        # Control: the very same fields signed as ACP 5.1.0 signs are accepted (cashier page).
        mer_key = serialization.load_pem_private_key(key_pem.encode(), None)
        digest_hex = hashlib.sha256(string_to_sign(fields).encode()).hexdigest()
        fields["signature"] = base64.b64encode(
            mer_key.sign(digest_hex.encode(), padding.PKCS1v15(), hashes.SHA256())
        ).decode()
        status, page = post_form("/gateway/api/frontTransReq.do", fields)
        check(f'id="orderId">{order_id}<' in page, "control: the same fields signed over the hex digest are accepted")
        verdict = client.verify_notify(json.dumps(genuine, ensure_ascii=False))
        check(verdict is False, f"verify_notify rejects a genuine UnionPay answer (returned {verdict!r})")
        own = raw_signed(genuine, signer_key)
        verdict = client.verify_notify(json.dumps(own, ensure_ascii=False))
        check(verdict is True, "and accepts the same fields re-signed over the raw string: the digest step is the cause")
    except AssertionError as e:
        print(f"    FAIL {e}")
        failures += 1

    print("== senweaver-pay (Unipay, configured with merId, key and certificate paths)")
    try:
        from senweaver_pay.channels.unipay.client import Unipay
        from senweaver_pay.exceptions import InvalidSignException

        pub_path = os.path.join(UP, "simulator", "acp_sign_cert.cer")
        unipay = Unipay(
            {
                "mer_id": mer_id,
                "mer_private_key_path": os.path.join(UP, "acp_test_sign_key.pem"),
                "mer_public_cert_path": os.path.join(UP, "acp_test_sign_cert.pem"),
                "unipay_public_cert_path": pub_path,
                "notify_url": back_url,
                "front_url": front_url,
            }
        )
        resp = unipay.web({"order_id": order_id, "txn_amt": "100", "order_desc": "probe"})
        check(
            resp.success and not resp.pay_url and not resp.raw_data.get("signature"),
            "web() returns success with no form and no signed fields to post",
        )
        try:
            unipay.callback(form_data=dict(genuine))
            check(False, "callback() rejects a genuine UnionPay message")
        except InvalidSignException:
            check(True, "callback() rejects a genuine UnionPay message (InvalidSignException)")
        try:
            unipay.callback(form_data=raw_signed(genuine, signer_key))
            check(False, "callback() rejects even a message signed its own way (raw string)")
        except InvalidSignException:
            check(True, "callback() rejects even a message signed its own way: it can accept nothing")
    except AssertionError as e:
        print(f"    FAIL {e}")
        failures += 1

    if failures:
        print(f"{failures} client(s) behaved differently from the documented diagnosis")
        sys.exit(1)
    print("both candidates are incompatible with UnionPay as documented; the simulator refuses them")


if __name__ == "__main__":
    main()
