import fs from "node:fs";
import { test, expect, signIn } from "./fixtures";

/** Splits simple CSV (the export quotes only what needs it). */
function parseCSV(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\n") row.push(cell), rows.push(row), (row = []), (cell = "");
    else if (ch !== "\r") cell += ch;
  }
  return rows;
}

test("Export as CSV downloads exactly the filtered list, with the filters in the file name, showing it is prepared and taking no second click meanwhile", async ({ page, server, problems }) => {
  // Set on the context before the first navigation, like the test below:
  // a page route set after sign-in did not always see the export's fetch.
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  let exports = 0;
  await page.context().route(/\/loans\/export\.(csv|xlsx)/, async (route) => {
    exports++;
    await held;
    await route.continue();
  });
  await signIn(page, server);
  await page.getByLabel("Product").selectOption("home");
  await expect(page).toHaveURL(/product=home/);
  await page.getByLabel("Order").selectOption("amount_desc");
  await expect(page).toHaveURL(/sort=amount_desc/);
  const matching = Number((await page.getByTestId("page-range").textContent())!.split(" of ")[1].replace(/,/g, ""));
  const firstOnPage = (await page.getByTestId("loan-row").first().getByRole("link").textContent())!;

  // While the file is prepared (held here until both links were pressed
  // again) the page says so, the links are disabled and a second click
  // starts no second export; then the file is saved under the server's
  // name and the page says how many rows it holds.
  const downloaded = page.waitForEvent("download");
  await page.getByTestId("export-csv").click();
  const status = page.getByTestId("export-status");
  await expect(status).toHaveText("Preparing the CSV file…");
  await expect(page.getByTestId("export-csv")).toHaveAttribute("aria-disabled", "true");
  await expect(page.getByTestId("export-xlsx")).toHaveAttribute("aria-disabled", "true");
  await page.getByTestId("export-csv").click({ force: true });
  await page.getByTestId("export-xlsx").click({ force: true });
  release();
  const download = await downloaded;
  expect(download.suggestedFilename()).toMatch(/^loans-home-\d{8}-\d{4}\.csv$/);
  await expect(status).toHaveText(`Downloaded ${download.suggestedFilename()} (${matching.toLocaleString("en-IN")} rows).`);
  await expect(page.getByTestId("export-csv")).not.toHaveAttribute("aria-disabled", "true");
  expect(exports).toBe(1);
  await page.context().unroute(/\/loans\/export\.(csv|xlsx)/);
  const text = fs.readFileSync((await download.path())!, "utf8");
  expect(text.startsWith("\uFEFF")).toBeTruthy();
  const rows = parseCSV(text.slice(1));
  expect(rows[0].slice(0, 6)).toEqual(["Application", "Status", "Applicant", "City", "Product", "Amount (INR)"]);
  expect(rows.length - 1).toBe(matching);
  expect(rows[1][0]).toBe(firstOnPage); // the list's order
  const amounts = rows.slice(1).map((r) => Number(r[5]));
  expect(amounts).toEqual([...amounts].sort((x, y) => y - x));
  for (const r of rows.slice(1)) {
    expect(r[4]).toBe("Home");
    expect(r[5]).toMatch(/^\d+\.\d\d$/); // rupees with paise
    expect(r[9]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/); // IST
  }
  expect(problems).toEqual([]);
});

test("An export whose session ended, or that is answered with a page, says so and saves nothing (never the sign-in page as the file)", async ({ page, server, problems }) => {
  await signIn(page, server);
  await expect(page.getByTestId("export-csv")).toBeVisible();
  const downloads: string[] = [];
  page.on("download", (d) => downloads.push(d.suggestedFilename()));
  const status = page.getByTestId("export-status");

  // Signed out meanwhile (another tab's Sign out, an expired session):
  // the server redirects the export to the sign-in page.
  await page.context().clearCookies();
  await page.getByTestId("export-csv").click();
  await expect(status).toHaveText("Your session ended.");
  const signInLink = page.getByTestId("export-sign-in");
  await expect(signInLink).toBeVisible();
  await expect(signInLink).toHaveAttribute("href", "/login?next=%2Floans");
  await expect(page.getByTestId("export-csv")).not.toHaveAttribute("aria-disabled", "true");

  // Any page in place of the file (here a 200 text/html) is not saved.
  await page.route(/\/loans\/export\.xlsx/, (route) =>
    route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: "<!doctype html><title>Sign in</title><h1>Sign in</h1>" }),
  );
  await page.getByTestId("export-xlsx").click();
  await expect(status).toHaveText("The export failed: the server answered with a page, not the file. Reload the page and try again.");
  await expect(signInLink).toBeHidden();
  await page.waitForTimeout(500); // a download would have started by now
  expect(downloads).toEqual([]);

  // Signed in again through the link, the export downloads.
  await page.goto(server.url + "/login?next=%2Floans");
  await page.getByLabel("Email").fill("admin@example.com");
  await page.getByLabel("Password").fill("e2e admin password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/loans$/);
  const downloaded = page.waitForEvent("download");
  await page.getByTestId("export-csv").click();
  expect((await downloaded).suggestedFilename()).toMatch(/^loans-\d{8}-\d{4}\.csv$/);
  expect(problems).toEqual([]);
});

test("An export that never answers can be cancelled, and stops by itself after 2 minutes without an answer; both give the links back", async ({ page, server, problems }) => {
  await page.clock.install(); // time flows; runFor stands in for the 2 minutes
  // The route is set on the context before the first navigation: set on
  // the page after signing in, it twice let the export through under CI's
  // load (the file downloaded; the route never saw the request).
  const held: unknown[] = [];
  await page.context().route(/\/loans\/export\.(csv|xlsx)/, (route) => {
    held.push(route); // never answered
  });
  await signIn(page, server);
  const status = page.getByTestId("export-status");
  const cancel = page.getByTestId("export-cancel");
  await expect(cancel).toBeHidden();

  await page.getByTestId("export-csv").click();
  await expect(status).toHaveText("Preparing the CSV file…");
  await expect(page.getByTestId("export-xlsx")).toHaveAttribute("aria-disabled", "true");
  await cancel.click();
  await expect(status).toHaveText("Export cancelled: nothing was downloaded.");
  await expect(cancel).toBeHidden();
  await expect(page.getByTestId("export-csv")).toBeFocused();
  await expect(page.getByTestId("export-csv")).not.toHaveAttribute("aria-disabled", "true");
  await expect(page.getByTestId("export-xlsx")).not.toHaveAttribute("aria-disabled", "true");

  await page.getByTestId("export-xlsx").click();
  await expect(status).toHaveText("Preparing the Excel file…");
  await page.clock.runFor(119_000);
  await expect(status).toHaveText("Preparing the Excel file…");
  await page.clock.runFor(2_000);
  await expect(status).toHaveText("The export stopped: the server sent nothing for 2 minutes. Nothing was downloaded; try again, or narrow the filters.");
  await expect(cancel).toBeHidden();
  await expect(page.getByTestId("export-xlsx")).not.toHaveAttribute("aria-disabled", "true");
  expect(held.length).toBe(2);
  await page.context().unrouteAll({ behavior: "ignoreErrors" });
  expect(problems).toEqual([]);
});

test("The export's status line keeps its place: preparing an export moves nothing on the page, at desktop and phone sizes", async ({ page, server, problems }) => {
  await signIn(page, server);
  let release = () => {};
  let held = Promise.resolve();
  await page.route(/\/loans\/export\.csv/, async (route) => {
    await held;
    await route.continue();
  });
  const places = () =>
    page.evaluate(() =>
      ["#loan-search", "[data-testid=export-csv]", "#bulk-form", "#loan-table"].map((s) => {
        const r = document.querySelector(s)!.getBoundingClientRect();
        return `${s} ${Math.round(r.x)},${Math.round(r.y + window.scrollY)} ${Math.round(r.width)}×${Math.round(r.height)}`;
      }),
    );
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 844 });
    await page.goto(server.url + "/loans"); // an empty status line
    held = new Promise<void>((r) => (release = r));
    const before = await places();
    const downloaded = page.waitForEvent("download");
    await page.getByTestId("export-csv").click();
    await expect(page.getByTestId("export-status")).toHaveText("Preparing the CSV file…");
    expect(await places(), `at ${width} px`).toEqual(before);
    // The longest progress an export of up to 1,00,000 rows shows, with
    // its Cancel, holds on the line too.
    await expect(page.getByTestId("export-cancel")).toBeVisible();
    await page.getByTestId("export-status").evaluate((el) => (el.textContent = "Preparing the CSV file… 1,00,000 of 1,00,000 rows"));
    expect(await places(), `at ${width} px, the longest progress`).toEqual(before);
    release();
    await downloaded;
    await expect(page.getByTestId("export-status")).toHaveText(/^Downloaded /);
    expect(await places(), `at ${width} px, downloaded`).toEqual(before);
  }
  expect(problems).toEqual([]);
});

test("Without JavaScript an export whose session ended goes to the sign-in page, and back to the filtered list (never a saved sign-in page)", async ({ browser, server, problems }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, server);
  await page.goto(server.url + "/loans?city=pune&status=under_review");
  const downloads: string[] = [];
  page.on("download", (d) => downloads.push(d.suggestedFilename()));
  await context.clearCookies();
  await page.getByTestId("export-csv").click();
  await expect(page).toHaveURL(/\/login\?next=/);
  expect(downloads).toEqual([]);
  await page.getByLabel("Email").fill("admin@example.com");
  await page.getByLabel("Password").fill("e2e admin password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/loans\?city=pune&status=under_review$/);
  // Signed in, the same link downloads the file and the page stays.
  const downloaded = page.waitForEvent("download");
  await page.getByTestId("export-csv").click();
  expect((await downloaded).suggestedFilename()).toMatch(/^loans-.*pune.*\.csv$/);
  await expect(page).toHaveURL(/\/loans\?city=pune&status=under_review$/);
  await context.close();
  expect(problems).toEqual([]);
});
