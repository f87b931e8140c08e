// The browsable API of an OpenAPI document in a real browser: headless
// Chromium (Debian's /usr/bin/chromium) driven by playwright-core. Run
// against standin serving tests/import-cases/openapi/petstore-expanded.yaml
// (base path /v2, 10 generated pets, no PATCH):
// node browser-openapi.mjs <api url>
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base] = process.argv.slice(2);
const step = (text) => console.log(`- ${text}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(String(error)));
page.on("dialog", (dialog) => dialog.accept());

step("home at the document's base path");
let response = await page.goto(base);
assert.equal(response.status(), 200);
assert.equal(await page.locator("h1").textContent(), "Swagger Petstore");
assert.match(await page.locator("tbody tr", { hasText: "pets" }).textContent(), /10/);

step("the list: the declared limit, the declared tags filter");
await page.getByRole("link", { name: "pets", exact: true }).click();
await page.waitForURL(`${base}/pets`);
assert.equal(await page.locator("tbody tr").count(), 10);
await page.getByText("Search and filter").click();
await page.locator("form[data-standin-filters]").getByLabel("Per page").selectOption("10");
await page.getByRole("button", { name: "Apply" }).click();
await page.waitForURL(/limit=10/);
assert.equal(await page.locator("tbody tr").count(), 10);

step("create: the document's 400 shown, then fixed");
const create = page.locator("#create-form");
await create.getByLabel("tag").fill("browser");
await create.getByRole("button", { name: "Create" }).click();
await create.locator("p.error", { hasText: "invalid field: name" }).waitFor();
assert.match(await create.locator(".status").textContent(), /400/);
await create.getByLabel("name").fill("Made in a browser");
await create.getByRole("button", { name: "Create" }).click();
await page.locator("[data-created] p").waitFor();
assert.match(await page.locator("[data-created]").textContent(), /Created \(200\)/);
const created = await page.locator("[data-created] a").getAttribute("href");
assert.equal(created, "/v2/pets/11");

step("the item at the document's path, then delete: 204, then 404");
await page.locator("[data-created] a").click();
await page.waitForURL(`${base}/pets/11`);
assert.match(await page.locator("dl.record").textContent(), /Made in a browser/);
assert.equal(await page.locator("#edit-form").count(), 0, "the document declares no PATCH");
await page.getByRole("button", { name: "View JSON" }).click();
await page.locator("#raw-json", { hasText: '"name": "Made in a browser"' }).waitFor();
await page.getByRole("button", { name: "Delete this record" }).click();
await page.locator("[data-delete-status]", { hasText: "Deleted" }).waitFor();
assert.match(await page.locator("[data-delete-status]").textContent(), /Deleted \(204\)\. GET now answers 404.*no record/);
response = await page.goto(`${base}/pets/11`);
assert.equal(response.status(), 404);

assert.deepEqual(pageErrors, []);
await browser.close();
console.log("browser on an OpenAPI document: ok");
