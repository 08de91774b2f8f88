// Verifies recorded webhook deliveries with the official Standard Webhooks library (the npm
// package `standardwebhooks`, an implementation independent of the server's): each delivery's
// signature must verify under its endpoint's secret, and the same delivery with its body altered
// (one byte changed, one byte appended) or under another secret must NOT verify, so that the check
// itself can fail.
//
// node verify_standardwebhooks.js FILE
//   FILE: a JSON array, or JSON lines, of recorded deliveries
//     {"secret": "whsec_...", "headers": {"webhook-id", "webhook-timestamp", "webhook-signature"},
//      "body": "<the raw body as text>"}          (or "bodyBase64": the raw bytes, base64)
//   "-" or no FILE reads standard input.
// Exits 0 and prints a summary when every delivery verifies (and every tampered copy fails),
// 1 and the failing deliveries otherwise, 2 on unusable input.
"use strict";

const fs = require("fs");
const { Webhook } = require("standardwebhooks");

function readDeliveries(file) {
  const text = fs.readFileSync(file === undefined || file === "-" ? 0 : file, "utf8").trim();
  if (text === "") return [];
  if (text.startsWith("[")) return JSON.parse(text);
  return text.split(/\r?\n/).filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

function bodyOf(d) {
  if (typeof d.bodyBase64 === "string") return Buffer.from(d.bodyBase64, "base64");
  if (typeof d.body === "string") return Buffer.from(d.body, "utf8");
  throw new Error("a delivery without body (a string) or bodyBase64");
}

function verifies(secret, body, headers) {
  try {
    new Webhook(secret).verify(body, headers, { jsonParse: false });
    return null;
  } catch (e) {
    return e.message || String(e);
  }
}

function tamperedBodies(body) {
  const changed = Buffer.from(body);
  if (changed.length > 0) changed[changed.length - 1] ^= 0x01;
  return [["last byte changed", changed], ["one byte appended", Buffer.concat([body, Buffer.from(" ")])]];
}

function otherSecret(secret) {
  // the same length, one key byte different
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  key[0] ^= 0x01;
  return "whsec_" + key.toString("base64");
}

function main() {
  let deliveries;
  try {
    deliveries = readDeliveries(process.argv[2]);
  } catch (e) {
    console.error(`unusable input: ${e.message}`);
    process.exit(2);
  }
  if (!Array.isArray(deliveries) || deliveries.length === 0) {
    console.error("no deliveries to verify");
    process.exit(2);
  }
  const failures = [];
  deliveries.forEach((d, i) => {
    const id = (d.headers && d.headers["webhook-id"]) || `#${i}`;
    let body;
    try {
      body = bodyOf(d);
    } catch (e) {
      failures.push(`${id}: ${e.message}`);
      return;
    }
    const headers = d.headers || {};
    const error = verifies(d.secret, body, headers);
    if (error !== null) failures.push(`${id}: does not verify: ${error}`);
    for (const [how, tampered] of tamperedBodies(body)) {
      if (verifies(d.secret, tampered, headers) === null)
        failures.push(`${id}: still verifies with the body tampered (${how})`);
    }
    if (verifies(otherSecret(d.secret), body, headers) === null)
      failures.push(`${id}: verifies under another secret`);
  });
  if (failures.length > 0) {
    console.error(`${failures.length} failure(s) of ${deliveries.length} deliveries:\n` + failures.join("\n"));
    process.exit(1);
  }
  console.log(`verified ${deliveries.length} deliveries with standardwebhooks; every tampered copy failed`);
}

main();
