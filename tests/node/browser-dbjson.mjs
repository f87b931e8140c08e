// The browsable API of a json-server db.json in a real browser: headless
// Chromium (Debian's /usr/bin/chromium) driven by playwright-core. Run
// against standin serving a db.json of 12 posts (views 10..120, post 1
// titled "alpha <b>") and one author:
// node browser-dbjson.mjs <api url> [screenshot directory]
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base, screenshots] = process.argv.slice(2);
const step = (text) => console.log(`- ${text}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(String(error)));
page.on("dialog", (dialog) => dialog.accept());
const shoot = async (name) => {
  if (screenshots) await page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: false });
};
const column = (name) => page.evaluate((name) => {
  const headers = Array.from(document.querySelectorAll("thead th")).map((th) => th.textContent.replace(/[▲▼]/g, "").trim());
  const index = headers.indexOf(name);
  return Array.from(document.querySelectorAll("tbody tr")).map((row) => row.children[index].textContent);
}, name);
const filters = () => page.locator("form[data-standin-filters]");

step("home: the db.json's collections with their counts");
let response = await page.goto(`${base}/`);
assert.equal(response.status(), 200);
assert.match(response.headers()["content-type"], /^text\/html/);
assert.equal(await page.locator("tbody tr").count(), 3);
assert.match(await page.locator("tbody tr", { hasText: "posts" }).textContent(), /12/);

step("a collection: every record, as json-server lists it");
await page.getByRole("link", { name: "posts", exact: true }).click();
await page.waitForURL(`${base}/posts`);
assert.equal(await page.locator("tbody tr").count(), 12);
assert.match(await page.locator(".paging li[aria-current]").first().textContent(), /Page 1 of 1/);

step("page: _limit 10, next (_page=2), first");
await page.getByText("Search and filter").click();
await filters().getByLabel("Per page").selectOption("10");
await page.getByRole("button", { name: "Apply" }).click();
await page.waitForURL(/_limit=10/);
assert.equal(await page.locator("tbody tr").count(), 10);
await page.locator("a[rel=next]").first().click();
await page.waitForURL(/_page=2/);
assert.match(await page.locator(".paging li[aria-current]").first().textContent(), /Page 2 of 2/);
assert.deepEqual(await column("id"), ["11", "12"]);
await page.locator("a[rel=first]").first().click();
await page.waitForURL(/_page=1/);
assert.equal(await page.locator("tbody tr").count(), 10);

step("sort: by views (_sort, _order), then reversed");
await page.goto(`${base}/posts`);
await page.locator("thead th a", { hasText: "views" }).click();
await page.waitForURL(/_sort=views&_order=asc/);
let views = (await column("views")).map(Number);
assert.deepEqual(views, [...views].sort((a, b) => a - b));
await page.locator("thead th a", { hasText: "views" }).click();
await page.waitForURL(/_order=desc/);
views = (await column("views")).map(Number);
assert.deepEqual(views, [...views].sort((a, b) => b - a));
await shoot("collection-dbjson");

step("filter and search: views_gte, q");
await page.getByText("Search and filter").click();
await filters().getByLabel("views from").fill("100");
await page.getByRole("button", { name: "Apply" }).click();
await page.waitForURL(/views_gte=100/);
assert.ok((await column("views")).every((value) => Number(value) >= 100));
assert.equal(await page.locator("tbody tr").count(), 3);
await page.goto(`${base}/posts`);
await page.getByText("Search and filter").click();
await filters().getByLabel("Search").fill("alpha");
await page.getByRole("button", { name: "Apply" }).click();
await page.waitForURL(/q=alpha/);
assert.deepEqual(await column("title"), ["alpha <b>"]);

step("an item: its fields, its author, its JSON");
await page.locator("tbody tr th a", { hasText: /^1$/ }).click();
await page.waitForURL(`${base}/posts/1`);
assert.match(await page.locator("dl.record").textContent(), /alpha <b>/);
assert.equal(await page.locator("dl.record a", { hasText: "authors 1" }).getAttribute("href"), "/authors/1");
await page.getByRole("button", { name: "View JSON" }).click();
await page.locator("#raw-json", { hasText: '"title": "alpha <b>"' }).waitFor();
assert.match(await page.locator("#raw-json").textContent(), /^GET \/posts\/1 {2}→ {2}200/);

step("create: json-server's 201 and Location");
await page.goto(`${base}/posts`);
const create = page.locator("#create-form");
await create.getByLabel("title").fill("Made in a browser");
await create.getByLabel("views").fill("3");
await create.getByRole("button", { name: "Create" }).click();
await page.locator("[data-created] p").waitFor();
assert.match(await page.locator("[data-created]").textContent(), /Created \(201\)/);
const created = await page.locator("[data-created] a").getAttribute("href");
assert.equal(created, `${base}/posts/13`);
await page.locator("[data-created] a").click();
await page.waitForURL(created);
assert.match(await page.locator("dl.record").textContent(), /Made in a browser/);

step("edit: PATCH (json-server has no entity tags)");
const edit = page.locator("#edit-form");
await edit.getByLabel("title").fill("Edited in a browser");
await edit.getByRole("button", { name: "Save changes" }).click();
await edit.locator(".status", { hasText: "Saved (200)" }).waitFor();
assert.match(await page.locator("dl.record").textContent(), /Edited in a browser/);
assert.match(await page.locator("dl.record").textContent(), /3/);

step("delete: 200 {}, then the record is 404");
await page.getByRole("button", { name: "Delete this record" }).click();
await page.locator("[data-delete-status]", { hasText: "Deleted" }).waitFor();
assert.match(await page.locator("[data-delete-status]").textContent(), /Deleted \(200\)\. GET now answers 404/);
response = await page.goto(created);
assert.equal(response.status(), 404);
assert.match(await page.locator("h1").textContent(), /^404 /);

assert.deepEqual(pageErrors, []);
await browser.close();
console.log("browser on a db.json: ok");
