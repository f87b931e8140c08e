// The browsable API in a real browser: headless Chromium (Debian's package,
// /usr/bin/chromium) driven by playwright-core. Run against standin serving
// specs/blog.yaml: node browser.mjs <api url> [screenshot directory]
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base, screenshots] = process.argv.slice(2);
const origin = new URL(base).origin;
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
// The text of column `name` in every row of the table.
const column = (name) => page.evaluate((name) => {
  const headers = Array.from(document.querySelectorAll("thead th")).map((th) => th.textContent.replace(/[▲▼]/g, "").trim());
  const index = headers.indexOf(name);
  return Array.from(document.querySelectorAll("tbody tr")).map((row) => row.children[index].textContent);
}, name);
const api = async (method, path, body, headers = {}) => {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: { Accept: "application/json", "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, etag: response.headers.get("etag"), json: await response.json().catch(() => null) };
};

step("home: the collections with their counts");
let response = await page.goto(base);
assert.equal(response.status(), 200);
assert.match(response.headers()["content-type"], /^text\/html/);
assert.equal(await page.locator("h1").textContent(), "Blog API");
assert.equal(await page.locator("tbody tr").count(), 3);
assert.match(await page.locator("tbody tr", { hasText: "posts" }).textContent(), /101/);
await shoot("home");

step("a collection: the table, 20 rows of 101");
await page.getByRole("link", { name: "posts", exact: true }).click();
await page.waitForURL(`${base}/posts`);
assert.match(await page.locator("h1").textContent(), /posts\s+101 records/);
assert.equal(await page.locator("tbody tr").count(), 20);

step("filter: status published, views from 1");
const filters = () => page.locator("form[data-standin-filters]");
// Closed until a filter is in force.
assert.equal(await page.locator("details.filters[open]").count(), 0);
await page.getByText("Search and filter").click();
await filters().getByLabel("status", { exact: true }).selectOption("published");
await filters().getByLabel("views from").fill("1");
await page.getByRole("button", { name: "Apply" }).click();
await page.waitForURL(/status=published/);
assert.match(page.url(), /views__gte=1/);
const statuses = await column("status");
assert.ok(statuses.length > 0);
assert.ok(statuses.every((status) => status === "published"), statuses.join());
assert.ok((await column("views")).every((views) => Number(views) >= 1));
// The form shows the filter in force.
assert.equal(await filters().getByLabel("status", { exact: true }).inputValue(), "published");

step("sort: by views, then reversed");
await page.locator("thead th a", { hasText: "views" }).click();
await page.waitForURL(/sort=views/);
let views = (await column("views")).map(Number);
assert.deepEqual(views, [...views].sort((a, b) => a - b));
assert.match(page.url(), /status=published/);
await page.locator("thead th a", { hasText: "views" }).click();
await page.waitForURL(/sort=-views/);
views = (await column("views")).map(Number);
assert.deepEqual(views, [...views].sort((a, b) => b - a));
assert.equal(await page.locator("thead th[aria-sort=descending]").count(), 1);

step("page: page size 10, next, last");
await page.goto(`${base}/posts`);
await page.getByText("Search and filter").click();
await filters().getByLabel("Per page").selectOption("10");
await page.getByRole("button", { name: "Apply" }).click();
await page.waitForURL(/per_page=10/);
assert.equal(await page.locator("tbody tr").count(), 10);
await page.locator("a[rel=next]").first().click();
await page.waitForURL(/page=2/);
assert.match(await page.locator(".paging li[aria-current]").first().textContent(), /Page 2 of 11/);
await page.locator("a[rel=last]").first().click();
await page.waitForURL(/page=11/);
assert.equal(await page.locator("tbody tr").count(), 1);
await page.goto(`${base}/posts?sort=-views&per_page=10`);
await shoot("collection");

step("an item: its fields, its author, what references it, its JSON");
await page.goto(`${base}/posts`);
await page.locator("tbody tr th a", { hasText: /^1$/ }).click();
await page.waitForURL(`${base}/posts/1`);
assert.match(await page.locator("dl.record").textContent(), /Notes on the Analytical Engine/);
assert.equal(await page.locator("dl.record a", { hasText: "authors 1" }).getAttribute("href"), "/api/authors/1");
assert.equal(await page.getByRole("link", { name: "comments", exact: true }).getAttribute("href"), "/api/posts/1/comments");
await page.getByRole("button", { name: "View JSON" }).click();
await page.locator("#raw-json", { hasText: '"title": "Notes on the Analytical Engine"' }).waitFor();
assert.match(await page.locator("#raw-json").textContent(), /^GET \/api\/posts\/1 {2}→ {2}200/);
await page.getByRole("button", { name: "Hide JSON" }).click();
await page.evaluate(() => window.scrollTo(0, 0));
await shoot("item");
await page.getByRole("link", { name: "comments", exact: true }).click();
await page.waitForURL(`${base}/posts/1/comments`);
for (const post of await column("post")) assert.equal(post, "1");

step("create: a validation error shown by its field, then fixed");
await page.goto(`${base}/posts`);
const create = page.locator("#create-form");
await create.getByLabel("views").fill("-5");
await create.getByLabel("author").fill("1");
await create.getByRole("button", { name: "Create" }).click();
await page.locator("#create-title-error").filter({ hasText: /\S/ }).waitFor();
assert.match(await page.locator("#create-views-error").textContent(), /\S/);
assert.equal(await create.getByLabel("title").getAttribute("aria-invalid"), "true");
assert.match(await create.locator(".status").textContent(), /400/);
await create.getByLabel("title").fill("Made in a browser");
await create.getByLabel("views").fill("3");
await create.getByLabel("status").selectOption({ label: "draft" });
await create.getByRole("button", { name: "Create" }).click();
await page.locator("[data-created] p").waitFor();
assert.match(await page.locator("[data-created]").textContent(), /Created \(201\)/);
assert.equal(await page.locator("#create-title-error").textContent(), "");
const created = await page.locator("[data-created] a").getAttribute("href");
assert.match(created, /^\/api\/posts\/\d+$/);
await page.locator("[data-created] a").click();
await page.waitForURL(`${origin}${created}`);
assert.match(await page.locator("dl.record").textContent(), /Made in a browser/);

step("edit: PATCH with If-Match, then a stale edit is a 412");
const edit = page.locator("#edit-form");
await edit.getByLabel("title").fill("Edited in a browser");
await edit.getByRole("button", { name: "Save changes" }).click();
await edit.locator(".status", { hasText: "Saved (200)" }).waitFor();
assert.match(await page.locator("dl.record").textContent(), /Edited in a browser/);
// Someone else changes the record behind the page's back.
assert.equal((await api("PATCH", created, { views: 99 })).status, 200);
await edit.getByLabel("title").fill("A stale edit");
await edit.getByRole("button", { name: "Save changes" }).click();
await edit.locator("p.error", { hasText: "412" }).waitFor();
assert.equal((await api("GET", created)).json.title, "Edited in a browser");

step("an action: the draft's publish button publishes it, then it offers archive");
await page.reload();
assert.equal(await page.getByRole("button", { name: "archive", exact: true }).count(), 0);
await page.getByRole("button", { name: "publish", exact: true }).click();
await page.locator("#edit-form .status", { hasText: "publish: done (200)" }).waitFor();
assert.equal((await api("GET", created)).json.status, "published");
assert.equal(await page.getByRole("button", { name: "publish", exact: true }).count(), 0);
assert.equal(await page.getByRole("button", { name: "archive", exact: true }).getAttribute("data-standin-action"), `${created}/archive`);

step("delete: then the record is gone (410: posts are soft-deleted)");
await page.reload();
await page.getByRole("button", { name: "Delete this record" }).click();
await page.locator("[data-delete-status]", { hasText: "Deleted" }).waitFor();
assert.match(await page.locator("[data-delete-status]").textContent(), /410/);
response = await page.goto(`${origin}${created}`);
assert.equal(response.status(), 410);
assert.equal(await page.locator("h1").textContent(), "410 Gone");

step("escaping: a record's markup is shown as text, never run");
const hostile = `<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">`;
const made = await api("POST", `${new URL(base).pathname}/posts`, { title: hostile, author: 1 });
assert.equal(made.status, 201);
await page.goto(`${base}/posts/${made.json.id}`);
assert.match(await page.locator("dl.record").textContent(), /<script>window.__xss = 1<\/script>/);
await page.goto(`${base}/posts?title__contains=xss`);
assert.equal(await page.locator("tbody tr").count(), 1);
assert.equal(await page.evaluate(() => window.__xss), undefined);

step("admin: health, the journal, reset");
await page.goto(`${base}/_standin`);
await page.locator("[data-admin-health]", { hasText: '"status": "ok"' }).waitFor();
await page.locator("[data-admin-requests] tr").first().waitFor();
await page.getByRole("button", { name: "Reset to the seeded data" }).click();
await page.locator("[data-admin-status]", { hasText: "Reset in" }).waitFor();
assert.equal((await api("GET", `${new URL(base).pathname}/posts/${made.json.id}`)).status, 404);
if (screenshots) await shoot("admin");

assert.deepEqual(pageErrors, []);
await browser.close();
console.log("browser: ok");
