// Drives Swagger UI in Debian's headless Chromium (playwright-core, never Playwright's own
// browser) as a person would: "Try it out" on the login operation, "Authorize" with the token,
// "Try it out" on the purchase operation. Prints what the page showed as one JSON line and
// saves a screenshot of the purchase's response.
//
// node swagger_ui_purchase.js --base-url URL --email E --password P --event-id N
//      [--quantity Q] [--idempotency-key K] --screenshot FILE.png
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const CHROMIUM = process.env.EVENTHUB_CHROMIUM || "/usr/bin/chromium";
// Offline, reproducible and quiet: no sandbox (root in CI), no GPU, no QUIC, no first-run UI,
// no background traffic to Google services.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const STEP_TIMEOUT_MS = 30000; // per step; generous for a loaded 2-core CI machine

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const required of ["base-url", "email", "password", "event-id", "screenshot"])
    if (!args[required]) throw new Error(`--${required} is required`);
  return args;
}

/** Expands an operation and presses "Try it out"; returns the operation's block. */
async function tryItOut(page, tag, operationId) {
  const block = page.locator(`#operations-${tag}-${operationId}`);
  await block.locator(".opblock-summary-control").click();
  await block.locator("button.try-out__btn").click();
  return block;
}

/** Presses "Execute" and waits for the live response; returns its status and body text. */
async function execute(block) {
  await block.locator("button.execute").click();
  const live = block.locator(".live-responses-table tbody tr.response");
  const status = (await live.locator("td.response-col_status").innerText()).trim();
  const body = await live.locator(".response-col_description .highlight-code pre").first().innerText();
  return { status, body, live };
}

async function login(page, email, password) {
  const block = await tryItOut(page, "Authentication", "login");
  await block.locator("textarea.body-param__text").fill(JSON.stringify({ email, password }, null, 2));
  const { status, body } = await execute(block);
  if (status !== "200") throw new Error(`login through Swagger UI answered ${status}: ${body}`);
  return { status, token: JSON.parse(body).accessToken };
}

/** The "Authorize" dialog: paste the token for bearerAuth, authorize, close. */
async function authorize(page, token) {
  await page.locator(".auth-wrapper button.authorize").click();
  const dialog = page.locator(".modal-ux");
  await dialog.locator("input#auth-bearer-value").fill(token);
  await dialog.getByRole("button", { name: "Apply credentials" }).click();
  await dialog.getByRole("button", { name: "Remove authorization" }).waitFor(); // authorized
  await dialog.locator("button.btn-done").click();
  await page.locator(".auth-wrapper button.authorize.locked").waitFor();
}

async function purchase(page, eventId, quantity, idempotencyKey) {
  const block = await tryItOut(page, "Purchases", "purchaseTickets");
  await block.locator('tr[data-param-name="id"] input').fill(String(eventId));
  if (idempotencyKey)
    await block.locator('tr[data-param-name="Idempotency-Key"] input').fill(idempotencyKey);
  await block.locator("textarea.body-param__text").fill(JSON.stringify({ quantity }, null, 2));
  return execute(block);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "eventhub-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 1000 },
  });
  const result = { loginStatus: null, purchaseStatus: null, purchase: null, screenshot: null };
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  try {
    await page.goto(new URL("/swagger-ui/", args["base-url"]).href);
    result.title = (await page.locator(".information-container .title").innerText()).trim();
    const { status: loginStatus, token } = await login(page, args.email, args.password);
    result.loginStatus = loginStatus;
    await authorize(page, token);
    const bought = await purchase(page, args["event-id"], Number(args.quantity || 1),
                                  args["idempotency-key"]);
    result.purchaseStatus = bought.status;
    result.purchase = JSON.parse(bought.body);
    await bought.live.scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, -250)); // keep the request's fields in view
    await page.screenshot({ path: args.screenshot });
    result.screenshot = args.screenshot;
    // persistAuthorization: the token survives a reload of the page.
    await page.reload();
    await page.locator(".auth-wrapper button.authorize").waitFor();
    result.authorizedAfterReload =
      (await page.locator(".auth-wrapper button.authorize.locked").count()) === 1;
  } catch (e) {
    await page.screenshot({ path: args.screenshot.replace(/\.png$/, "-failure.png") }).catch(() => {});
    throw e;
  } finally {
    result.pageErrors = consoleErrors;
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    console.log(JSON.stringify(result));
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
