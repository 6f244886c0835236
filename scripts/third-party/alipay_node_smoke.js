#!/usr/bin/env node
// Drive the unmodified official Alipay Node SDK (`alipay-sdk` on npm) against payagg-mock.
//
// usage: node alipay_node_smoke.js BASE_URL SETUP_DIR      (NODE_PATH must find alipay-sdk)
//
// The SDK is configured only with `gateway: BASE_URL + '/gateway.do'` and the files
// `payagg-mock init` wrote under SETUP_DIR/alipay. Response verification is on: every call
// passes `{ validateSign: true }` (the SDK's default is off), which makes the SDK check the
// `sign` of the response node with the Alipay public key (public-key mode) or with the key
// of alipayCertPublicKey_RSA2.crt (certificate mode). Notifications are checked with
// `checkNotifySignV2`.
//
// Two runs, each precreate -> query (ACQ.TRADE_NOT_EXIST until scanned) -> scan and pay
// through the control API -> query WAIT_BUYER_PAY ->
// notification verified -> query TRADE_SUCCESS -> partial refund -> refund query; then a
// response with a forged sign must be rejected. Exits non-zero on the first failing run.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const crypto = require('node:crypto');
const { AlipaySdk } = require('alipay-sdk');

const [BASE, SETUP] = process.argv.slice(2);
if (!BASE || !SETUP) {
  console.error('usage: alipay_node_smoke.js BASE_URL SETUP_DIR');
  process.exit(2);
}
const A = (f) => path.join(SETUP, 'alipay', f);
const cfg = JSON.parse(fs.readFileSync(path.join(SETUP, 'mock.json'), 'utf8')).alipay;
const appCert = fs.readdirSync(path.join(SETUP, 'alipay')).find((f) => f.startsWith('appCertPublicKey_'));

// Notify URL: collects notifications (form-encoded), answers "success".
const inbox = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    inbox.push(Object.fromEntries(new URLSearchParams(body)));
    res.end('success');
  });
});

async function control(p, body) {
  const r = await fetch(BASE + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  if (!r.ok) throw new Error(`control ${p}: ${r.status} ${await r.text()}`);
  return r.json();
}

function check(cond, what) {
  if (!cond) throw new Error(what);
  console.log(`    ok  ${what}`);
}

async function waitNotify(sdk, outTradeNo, status) {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    const n = inbox.find((x) => x.out_trade_no === outTradeNo && x.trade_status === status);
    if (n) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${status} notification for ${outTradeNo}`);
}

async function lifeCycle(label, sdk, notifyUrl) {
  console.log(`[alipay-sdk] ${label}`);
  const v = { validateSign: true };
  const no = 'TP' + crypto.randomBytes(10).toString('hex');
  let r = await sdk.exec('alipay.trade.precreate', {
    notify_url: notifyUrl,
    bizContent: { out_trade_no: no, total_amount: '1.00', subject: 'third-party smoke' },
  }, v);
  check(r.code === '10000' && r.qrCode, `precreate ${no}: ${r.code} ${r.qrCode}`);
  // As on Alipay, a precreated trade exists only once the buyer has scanned the code.
  r = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: no } }, v);
  check(r.code === '40004' && r.subCode === 'ACQ.TRADE_NOT_EXIST', `query before scan: ${r.code} ${r.subCode}`);
  await control(`/__mock/orders/alipay/${no}/user-paying`, {});
  r = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: no } }, v);
  check(r.code === '10000' && r.tradeStatus === 'WAIT_BUYER_PAY', `query after scan: ${r.code} ${r.tradeStatus}`);
  await control(`/__mock/orders/alipay/${no}/pay`, {});
  const n = await waitNotify(sdk, no, 'TRADE_SUCCESS');
  check(sdk.checkNotifySignV2(n), 'TRADE_SUCCESS notification: checkNotifySignV2 true');
  r = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: no } }, v);
  check(r.code === '10000' && r.tradeStatus === 'TRADE_SUCCESS', `query after pay: ${r.code} ${r.tradeStatus}`);
  r = await sdk.exec('alipay.trade.refund', {
    bizContent: { out_trade_no: no, refund_amount: '0.30', out_request_no: no + 'R1' },
  }, v);
  check(r.code === '10000' && r.fundChange === 'Y' && r.refundFee === '0.30', `refund 0.30: ${r.code} fund_change=${r.fundChange} refund_fee=${r.refundFee}`);
  r = await sdk.exec('alipay.trade.fastpay.refund.query', {
    bizContent: { out_trade_no: no, out_request_no: no + 'R1' },
  }, v);
  check(r.code === '10000' && r.refundAmount === '0.30', `refund query: ${r.code} refund_amount=${r.refundAmount} status=${r.refundStatus}`);
  // Business error answers are signed too and verify.
  r = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: no + 'X' } }, v);
  check(r.code === '40004' && r.subCode === 'ACQ.TRADE_NOT_EXIST', `unknown order: ${r.code} ${r.subCode}`);
}

async function forgedIsRejected(sdk, label) {
  // The same gateway answer checked with a key that is not Alipay's must fail: this proves
  // validateSign really verifies (it is the SDK's own checkResponseSign).
  const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
    .export({ type: 'spki', format: 'pem' });
  const saved = sdk.config.alipayPublicKey;
  sdk.config.alipayPublicKey = other;
  try {
    await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: 'nope' } }, { validateSign: true });
  } catch (e) {
    check(/验签失败/.test(e.message), `${label}: answer checked against a foreign key is rejected (${e.message.slice(0, 24)}…)`);
    return;
  } finally {
    sdk.config.alipayPublicKey = saved;
  }
  throw new Error(`${label}: validateSign accepted a foreign key: verification is off`);
}

async function main() {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const notifyUrl = `http://127.0.0.1:${server.address().port}/alipay/notify`;
  const gateway = BASE.replace(/\/$/, '') + '/gateway.do';
  const common = {
    appId: cfg.app_id,
    privateKey: fs.readFileSync(A('app_private_key.pem'), 'utf8'),
    keyType: 'PKCS8',
    gateway,
    timeout: 10000,
  };
  const runs = [
    ['public-key mode (alipayPublicKey_RSA2.txt)', () => new AlipaySdk({
      ...common,
      alipayPublicKey: fs.readFileSync(A('alipayPublicKey_RSA2.txt'), 'utf8').trim(),
    })],
    ['certificate mode (appCertPublicKey_*.crt, alipayCertPublicKey_RSA2.crt, alipayRootCert.crt)', () => new AlipaySdk({
      ...common,
      appCertPath: A(appCert),
      alipayPublicCertPath: A('alipayCertPublicKey_RSA2.crt'),
      alipayRootCertPath: A('alipayRootCert.crt'),
    })],
  ];
  let failures = 0;
  for (const [label, make] of runs) {
    try {
      const sdk = make();
      await lifeCycle(label, sdk, notifyUrl);
      await forgedIsRejected(sdk, label.split(' (')[0]);
    } catch (e) {
      failures += 1;
      console.log(`    FAIL ${e.name}: ${e.message}`);
      if (e.responseDataRaw) console.log(`         raw: ${e.responseDataRaw}`);
    }
  }
  server.close();
  console.log('[alipay-sdk] ' + (failures ? `${failures} run(s) failed` : 'all passed'));
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
