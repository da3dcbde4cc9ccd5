import AxeBuilder from "@axe-core/playwright";
import path from "node:path";
import { Page } from "@playwright/test";
import { test, expect, signIn } from "./fixtures";
import { fixtures } from "./global-setup";

/** The serious and critical accessibility violations axe-core finds on
 * the page as it is now, one line each (rule, impact, where). Only
 * violations are collected in full (resultTypes): the passes and
 * incomplete results, which this check never reads, cost the scan
 * seconds on a big page. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).options({ resultTypes: ["violations"] }).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")} — ${n.failureSummary?.split("\n").slice(1).join(" ")}`));
}

const background = { light: "rgb(248, 250, 252)", dark: "rgb(15, 23, 42)" };

/**
 * Scans the page as it is now in the light colour scheme, then in the
 * dark one (prefers-color-scheme emulated on the same page: one visit
 * checks both), into found[`${where} (light)`] and found[`${where}
 * (dark)`], and want gets [] for both. Before each scan the scheme is
 * checked to apply (the page's background), so the two scans are never
 * of the same colours; any transition the switch started is waited out
 * first, so axe reads the scheme's final colours.
 */
async function scanBothSchemes(page: Page, where: string, found: Record<string, string[]>, want: Record<string, string[]>) {
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(bg, `${where}: the ${scheme} scheme applies`).toBe(background[scheme]);
    found[`${where} (${scheme})`] = await seriousViolations(page);
    want[`${where} (${scheme})`] = [];
  }
}

async function firstLoan(page: Page, base: string, status: string): Promise<string> {
  await page.goto(`${base}/loans?status=${status}`);
  return (await page.getByTestId("loan-row").first().getByRole("link").first().textContent())!.trim();
}

// Each page is scanned in the light and the dark colour scheme in one
// visit (twice the scans of one scheme, one sign-in and one walk through
// the pages). axe checks every node's contrast: a page takes seconds on
// a busy machine.
test.describe.configure({ timeout: 360_000 });

test("the list, with and without a filter error, and a new application have no serious or critical axe violations (light and dark)", async ({ page, server, problems }) => {
  await signIn(page, server);
  const found: Record<string, string[]> = {};
  const want: Record<string, string[]> = {};
  await expect(page.getByTestId("loan-row").first()).toBeVisible();
  await scanBothSchemes(page, "/loans", found, want);
  for (const path of ["/loans?product=home&min=abc&sort=amount_desc", "/loans/new"]) {
    await page.goto(server.url + path);
    await scanBothSchemes(page, path, found, want);
  }
  expect(found).toEqual(want);
  expect(Object.keys(found)).toHaveLength(6);
  expect(problems).toEqual([]);
});

test("the detail page, its edit form (with errors) and the conflict prompt have no serious or critical axe violations (light and dark)", async ({ page, browser, server, problems }) => {
  await signIn(page, server);
  const found: Record<string, string[]> = {};
  const want: Record<string, string[]> = {};
  const loan = await firstLoan(page, server.url, "under_review");
  await page.goto(`${server.url}/loans/${loan}`);
  await scanBothSchemes(page, "detail", found, want);
  const section = page.getByTestId("section-applicant");
  await section.getByTestId("edit").click();
  await expect(section.getByTestId("section-form")).toBeVisible();
  await section.getByLabel("Email").fill("not an email");
  await section.getByTestId("save").click();
  await expect(section.locator("[aria-invalid=true]").first()).toBeVisible();
  await scanBothSchemes(page, "edit form with errors", found, want);

  // The conflict prompt: another admin saves first.
  const other = await browser.newContext();
  const pageB = await other.newPage();
  await signIn(pageB, server);
  await pageB.goto(`${server.url}/loans/${loan}`);
  const sectionB = pageB.getByTestId("section-applicant");
  await sectionB.getByTestId("edit").click();
  await sectionB.getByLabel("City").fill("Shimla");
  await sectionB.getByTestId("save").click();
  await expect(sectionB.getByTestId("notice")).toContainText("Saved as version");
  await other.close();
  await section.getByLabel("Email").fill("asha.conflict@example.com");
  await section.getByTestId("save").click();
  await expect(section.getByTestId("conflict")).toBeVisible();
  await scanBothSchemes(page, "conflict prompt", found, want);
  expect(found).toEqual(want);
  expect(Object.keys(found)).toHaveLength(6);
  expect(problems).toEqual([]);
});

test("the admin and security pages (users, a user, audit, password, two-factor enrolment, sessions) have no serious or critical axe violations (light and dark)", async ({
  page,
  server,
  problems,
}) => {
  await signIn(page, server);
  const found: Record<string, string[]> = {};
  const want: Record<string, string[]> = {};
  await page.goto(server.url + "/admin/users");
  const user = (await page.getByTestId("user-row").first().getByRole("link").first().getAttribute("href"))!;
  const paths = [
    "/admin/users",
    "/admin/queue",
    "/admin/queue/stats",
    "/admin/ledger",
    "/admin/locks",
    "/admin/audit",
    user,
    "/account/password",
    "/account/two-factor",
    "/account/sessions",
  ];
  for (const path of paths) {
    await page.goto(server.url + path);
    await scanBothSchemes(page, path, found, want);
  }
  // The keyboard shortcuts' help, open over the list.
  await page.goto(server.url + "/loans");
  await page.keyboard.press("?");
  await expect(page.getByTestId("shortcuts-help")).toBeVisible();
  await scanBothSchemes(page, "shortcuts help", found, want);
  expect(found).toEqual(want);
  expect(Object.keys(found)).toHaveLength(2 * (paths.length + 1));
  expect(problems).toEqual([]);
});

test("at 390 px the schedule, the KFS, the journal and a loan with a document have no serious or critical axe violations (light and dark): tables that scroll sideways take the keyboard", async ({
  page,
  server,
  problems,
}) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, server);
  const found: Record<string, string[]> = {};
  const want: Record<string, string[]> = {};
  const loan = await firstLoan(page, server.url, "under_review");
  const paths = [`/loans/${loan}/schedule`, `/loans/${loan}/kfs`, "/admin/ledger"];
  for (const path of paths) {
    await page.goto(server.url + path);
    await scanBothSchemes(page, path, found, want);
  }
  // A document's links (its download link sits in a line of text).
  await page.goto(`${server.url}/loans/${loan}`);
  const docs = page.getByTestId("documents-panel");
  await docs.getByLabel("Kind", { exact: true }).selectOption("pan");
  await docs.getByLabel("File").setInputFiles(path.join(fixtures, "pan-card.png"));
  await docs.getByTestId("upload").click();
  await expect(docs.getByTestId("document-download")).toBeVisible();
  await scanBothSchemes(page, `/loans/${loan} with a document`, found, want);
  expect(found).toEqual(want);
  expect(Object.keys(found)).toHaveLength(2 * (paths.length + 1));
  expect(problems).toEqual([]);
});
