// A fast webhook receiver for bench/webhooks/run-webhooks-bench (Node's http module only, no npm
// package): answers every POST 204 at once and counts what it saw.
//
// node receiver.js PORT_FILE [SECRET_FILE]
//   listens on 127.0.0.1, a free port, and writes that port to PORT_FILE once it accepts
//   connections. SECRET_FILE, when given, is read at the first delivery: the endpoint's
//   "whsec_..." secret, with which a sample of the deliveries (the first 200, then every 100th)
//   has its webhook-signature checked (Standard Webhooks: v1,<base64 of HMAC-SHA256(secret bytes,
//   "<webhook-id>.<webhook-timestamp>.<body>")>).
//
// Any POST (other than the control routes below) is a delivery. It counts as "bad" when a
// Standard Webhooks header is missing, its body is not JSON of a purchase.confirmed with a
// data.purchaseId, or its sampled signature does not verify; it is answered 204 all the same
// (the benchmark measures the sender, and fails on any bad delivery afterwards).
//
// Control routes:
//   GET /_stats  {requests, distinct_ids, distinct_purchases, bad, bad_examples, signatures_checked,
//                 signatures_bad, first_at, last_at} (times: ms since the epoch)
//   GET /_ids    the distinct webhook-ids seen, one a line
"use strict";

const http = require("http");
const fs = require("fs");
const crypto = require("crypto");

const portFile = process.argv[2];
const secretFile = process.argv[3];
let secretKey = null; // Buffer, once read

const ids = new Set();
const purchases = new Set();
let requests = 0;
let bad = 0;
const badExamples = [];
let signaturesChecked = 0;
let signaturesBad = 0;
let firstAt = 0;
let lastAt = 0;

function noteBad(why) {
  bad++;
  if (badExamples.length < 5) badExamples.push(why);
}

function key() {
  if (secretKey === null && secretFile) {
    try {
      const text = fs.readFileSync(secretFile, "utf8").trim();
      if (text.startsWith("whsec_")) secretKey = Buffer.from(text.slice(6), "base64");
    } catch (e) {
      // not written yet: the next sampled delivery tries again
    }
  }
  return secretKey;
}

function checkSignature(id, timestamp, signature, body) {
  const k = key();
  if (k === null) return;
  signaturesChecked++;
  const expected = crypto.createHmac("sha256", k).update(`${id}.${timestamp}.`).update(body).digest("base64");
  const ok = signature.split(" ").some((s) => s === `v1,${expected}`);
  if (!ok) {
    signaturesBad++;
    noteBad(`signature of ${id} does not verify`);
  }
}

function delivery(req, body) {
  requests++;
  const now = Date.now();
  if (firstAt === 0) firstAt = now;
  lastAt = now;
  const id = req.headers["webhook-id"];
  const timestamp = req.headers["webhook-timestamp"];
  const signature = req.headers["webhook-signature"];
  if (!id || !timestamp || !signature) {
    noteBad(`missing header(s): id=${id} timestamp=${timestamp} signature=${signature ? "yes" : "no"}`);
    return;
  }
  ids.add(id);
  let parsed = null;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (e) {
    noteBad(`${id}: body is not JSON`);
  }
  if (parsed !== null) {
    if (parsed.type === "purchase.confirmed" && parsed.data && parsed.data.purchaseId !== undefined) {
      purchases.add(parsed.data.purchaseId);
    } else {
      noteBad(`${id}: not a purchase.confirmed with data.purchaseId: ${body.toString("utf8").slice(0, 200)}`);
    }
  }
  if (requests <= 200 || requests % 100 === 0) checkSignature(id, timestamp, signature, body);
}

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/_stats") {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({
      requests, distinct_ids: ids.size, distinct_purchases: purchases.size, bad, bad_examples: badExamples,
      signatures_checked: signaturesChecked, signatures_bad: signaturesBad, first_at: firstAt, last_at: lastAt,
    }));
    return;
  }
  if (req.method === "GET" && req.url === "/_ids") {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(Array.from(ids).join("\n") + "\n");
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.method === "POST") delivery(req, Buffer.concat(chunks));
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 60000; // the sender's keep-alive connections stay open between bursts
server.headersTimeout = 65000;
server.listen(0, "127.0.0.1", () => {
  const tmp = `${portFile}.tmp`;
  fs.writeFileSync(tmp, String(server.address().port));
  fs.renameSync(tmp, portFile);
});
process.on("SIGTERM", () => process.exit(0));
