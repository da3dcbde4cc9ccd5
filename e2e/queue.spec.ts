import { Page } from "@playwright/test";
import { test, expect, signIn } from "./fixtures";

/** The rupees of each listed amount ("₹12,34,567.50" → 1234567.5). */
async function amounts(page: Page): Promise<number[]> {
  return (await page.getByTestId("loan-amount").allTextContents()).map((a) => Number(a.replace(/[₹,]/g, "")));
}

/** Today's date in IST as YYYY-MM-DD, moved by days. */
function istDay(days = 0): string {
  const d = new Date(Date.now() + 5.5 * 3600_000 + days * 86400_000);
  return d.toISOString().slice(0, 10);
}

const months: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
/** "02 Dec 2026" as YYYY-MM-DD. */
function isoOf(shown: string): string {
  const [d, m, y] = shown.trim().split(" ");
  return `${y}-${String(months[m] + 1).padStart(2, "0")}-${d.padStart(2, "0")}`;
}

test("the work queue: product, amount and date filters, header sort, page size and my queue, all in the URL; Back restores each", async ({
  page,
  server,
  problems,
}) => {
  await signIn(page, server);
  await expect(page.getByTestId("loan-row")).toHaveCount(25);

  // Product: every row is a home loan.
  await page.getByLabel("Product").selectOption("home");
  await expect(page).toHaveURL(/\/loans\?product=home$/);
  await expect(page.getByTestId("loan-total")).toContainText("(filtered)");
  for (const p of await page.getByTestId("loan-row").locator('td[data-label="Product"]').allTextContents()) expect(p).toBe("Home");

  // Amount from ₹10,00,000 (typed with grouping; the URL keeps plain rupees).
  await page.getByLabel("From").first().fill("10,00,000");
  await page.getByLabel("From").first().press("Enter");
  await expect(page).toHaveURL(/min=1000000/);
  await expect(page).toHaveURL(/product=home/);
  for (const a of await amounts(page)) expect(a).toBeGreaterThanOrEqual(10_00_000);

  // The Amount header sorts largest first; the order menu agrees after the reload.
  await page.getByTestId("sort-amount").click();
  await expect(page).toHaveURL(/sort=amount_desc/);
  await expect(page.getByLabel("Order")).toHaveValue("amount_desc");
  const desc = await amounts(page);
  expect(desc).toEqual([...desc].sort((x, y) => y - x));
  await expect(page.locator("th[aria-sort=descending]")).toContainText("Amount");
  // Clicked again, smallest first.
  await page.getByTestId("sort-amount").click();
  await expect(page).toHaveURL(/sort=amount_asc/);
  const asc = await amounts(page);
  expect(asc).toEqual([...asc].sort((x, y) => x - y));

  // Back: the largest-first page, with its filters.
  await page.goBack();
  await expect(page).toHaveURL(/sort=amount_desc/);
  await expect(page.getByLabel("Product")).toHaveValue("home");
  await expect(page.getByLabel("From").first()).toHaveValue("1000000");

  // Clear the filters; then a page of 50 over every product.
  await page.getByTestId("clear-filters").click();
  await expect(page).toHaveURL(/\/loans\?sort=amount_desc$/);
  await page.getByLabel("Page size").selectOption("50");
  await expect(page).toHaveURL(/size=50/);
  await expect(page.getByTestId("loan-row")).toHaveCount(50);
  await expect(page.getByTestId("page-range")).toHaveText("1–50 of 200");

  // Submitted in the last week (IST days): every row's date is inside.
  const from = istDay(-7);
  await page.locator("#loan-from").fill(from);
  await expect(page).toHaveURL(new RegExp(`from=${from}`));
  for (const d of await page.getByTestId("loan-row").locator('td[data-label="Submitted"]').allTextContents()) {
    expect(isoOf(d) >= from).toBeTruthy();
  }

  // My queue: nothing is assigned to the admin yet.
  await page.getByTestId("my-queue").click();
  await expect(page).toHaveURL(/assignee=me/);
  await expect(page.getByTestId("no-loans")).toHaveText("No applications match these filters.");
  await expect(page.getByLabel("Assignee")).toHaveValue("me");
  expect(problems).toEqual([]);
});

test("a mistyped amount is said beside its field, and the rest of the filters still apply", async ({ page, server, problems }) => {
  await signIn(page, server);
  await page.goto(server.url + "/loans?product=auto&min=ten+lakh");
  await expect(page.locator("#loan-min-error")).toHaveText("Enter an amount in rupees, like 5,00,000.");
  await expect(page.locator("#loan-min")).toHaveAttribute("aria-invalid", "true");
  for (const p of await page.getByTestId("loan-row").locator('td[data-label="Product"]').allTextContents()) expect(p).toBe("Auto");
  // A city with no letters is said beside its field; a score or an age no
  // form offers is refused.
  await page.goto(server.url + "/loans?city=12345&score=refer");
  await expect(page.locator("#loan-city-error")).toHaveText("Enter a city name, like Pune.");
  await expect(page.getByLabel("Score")).toHaveValue("refer");
  for (const bad of ["score=maybe", "days=0", "days=ten"]) {
    expect((await page.request.get(server.url + "/loans?" + bad)).status(), bad).toBe(400);
  }
  expect(problems).toEqual([]);
});

test("the work queue works without JavaScript as a plain GET form", async ({ browser, server }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server);
  await page.getByLabel("Product").selectOption("personal");
  await page.getByLabel("From").first().fill("1,00,000");
  await page.getByLabel("To").first().fill("5,00,000");
  await page.getByLabel("Page size").selectOption("100");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/product=personal/);
  await expect(page).toHaveURL(/size=100/);
  for (const a of await amounts(page)) {
    expect(a).toBeGreaterThanOrEqual(1_00_000);
    expect(a).toBeLessThanOrEqual(5_00_000);
  }
  await page.getByTestId("sort-submitted").click(); // already newest first: turns to oldest
  await expect(page).toHaveURL(/sort=oldest/);
  await expect(page.getByLabel("Product")).toHaveValue("personal");

  // City (any case and spacing), score recommendation and days in status.
  await page.getByTestId("clear-filters").click();
  await page.getByLabel("City").fill("  pune ");
  await page.getByLabel("Score").selectOption("none");
  await page.getByLabel("In status").selectOption("7");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/city=\+*pune/); // the form as typed; the field shows it tidied
  await expect(page).toHaveURL(/score=none/);
  await expect(page).toHaveURL(/days=7/);
  await expect(page.getByLabel("City")).toHaveValue("pune");
  await expect(page.getByLabel("In status")).toHaveValue("7");
  const rows = page.getByTestId("loan-row");
  expect(await rows.count()).toBeGreaterThan(0);
  for (const row of await rows.all()) {
    await expect(row.locator('td[data-label="Applicant"]')).toContainText("Pune");
    const days = Number((await row.getByTestId("in-status").textContent())!.replace(/\D/g, ""));
    expect(days).toBeGreaterThanOrEqual(7);
  }
  // Fewer than without the ageing filter.
  const aged = await page.getByTestId("page-range").textContent();
  await page.getByLabel("In status").selectOption("");
  await page.getByRole("button", { name: "Search" }).click();
  // The empty fields are left out of the address (a 303 to the canonical one).
  await expect(page).toHaveURL(/city=pune/);
  await expect(page).not.toHaveURL(/days=|q=&|=&/);
  expect(await page.getByTestId("page-range").textContent()).not.toBe(aged);
  await context.close();
});

test.describe("at phone size", () => {
  test.use({ viewport: { width: 390, height: 844 } });
  test("the filtered list does not scroll sideways", async ({ page, server, problems }) => {
    await signIn(page, server);
    await page.goto(server.url + "/loans?product=home&min=abc&from=2026-01-01&size=50");
    await expect(page.locator("#loan-min-error")).toBeVisible();
    const [scroll, inner] = await page.evaluate(() => [document.scrollingElement!.scrollWidth, window.innerWidth]);
    expect(scroll).toBeLessThanOrEqual(inner);
    expect(problems).toEqual([]);
  });
});

test("an unassigned row says Nobody in its Assignee cell, visibly, at desktop and phone sizes", async ({ page, server, problems }) => {
  await signIn(page, server);
  await page.goto(server.url + "/loans?assignee=none");
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 844 });
    const cell = page.getByTestId("loan-row").first().locator('td[data-label="Assignee"]');
    await expect(cell, `at ${width} px`).toHaveText("Nobody");
    const shown = await cell.evaluate((td) => {
      const r = td.getBoundingClientRect(), t = td.firstElementChild!.getBoundingClientRect();
      return { cell: r.width, text: t.width, height: t.height };
    });
    expect(shown.text, `at ${width} px the word is drawn, not only read out (${JSON.stringify(shown)})`).toBeGreaterThan(20);
    expect(shown.height).toBeGreaterThan(8);
  }
  expect(problems).toEqual([]);
});

test("the job queue page at 390 px: the counts stack per type with their statuses, nothing scrolls sideways and no word (done, processing, the worker line) breaks", async ({ page, server, problems }) => {
  await signIn(page, server);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(server.url + "/admin/queue");
  await expect(page.getByTestId("queue-row").first()).toBeVisible();
  const found = await page.evaluate(() => {
    const out: string[] = [];
    if (document.documentElement.scrollWidth > window.innerWidth) out.push(`the page is ${document.documentElement.scrollWidth}px wide`);
    const stats = document.getElementById("queue-stats")!;
    for (const el of Array.from(stats.querySelectorAll<HTMLElement>("*"))) {
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible") out.push(`${el.tagName} scrolls sideways`);
    }
    // Every word of the panel's text on one line.
    const walker = document.createTreeWalker(stats, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent!;
      for (const m of Array.from(text.matchAll(/[^\s·]+/g))) {
        const r = document.createRange();
        r.setStart(n, m.index!);
        r.setEnd(n, m.index! + m[0].length);
        const tops = new Set(Array.from(r.getClientRects()).map((c) => Math.round(c.top)));
        if (tops.size > 1) out.push(`"${m[0]}" breaks over ${tops.size} lines`);
      }
    }
    return out;
  });
  expect(found).toEqual([]);
  const first = page.getByTestId("queue-row").first();
  for (const status of ["pending", "processing", "done", "dead", "discarded"]) {
    await expect(first.locator(`td[data-label="${status}"]`)).toBeVisible();
  }
  expect(problems).toEqual([]);
});
