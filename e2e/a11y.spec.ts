import AxeBuilder from "@axe-core/playwright";
import { Page } from "@playwright/test";
import { test, expect, signIn } from "./fixtures";

/** The serious and critical accessibility violations axe-core finds on
 * the page as it is now, one line each (rule, impact, where). */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")} — ${n.failureSummary?.split("\n").slice(1).join(" ")}`));
}

async function firstLoan(page: Page, base: string, status: string): Promise<string> {
  await page.goto(`${base}/loans?status=${status}`);
  return (await page.getByTestId("loan-row").first().getByRole("link").first().textContent())!.trim();
}

for (const scheme of ["light", "dark"] as const) {
  test.describe(`${scheme} colour scheme`, () => {
    test.use({ colorScheme: scheme });
    // axe checks every node's contrast: a page takes seconds on a busy machine.
    test.describe.configure({ timeout: 240_000 });

    test("the list, with and without a filter error, and a new application have no serious or critical axe violations", async ({ page, server, problems }) => {
      await signIn(page, server);
      const found: Record<string, string[]> = {};
      await expect(page.getByTestId("loan-row").first()).toBeVisible();
      // The scheme really applies (the scan is not of the light page twice).
      const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      expect(background).toBe(scheme === "dark" ? "rgb(15, 23, 42)" : "rgb(248, 250, 252)");
      found["/loans"] = await seriousViolations(page);
      for (const path of ["/loans?product=home&min=abc&sort=amount_desc", "/loans/new"]) {
        await page.goto(server.url + path);
        found[path] = await seriousViolations(page);
      }
      expect(found).toEqual({ "/loans": [], "/loans?product=home&min=abc&sort=amount_desc": [], "/loans/new": [] });
      expect(problems).toEqual([]);
    });

    test("the detail page, its edit form (with errors) and the conflict prompt have no serious or critical axe violations", async ({ page, browser, server, problems }) => {
      await signIn(page, server);
      const found: Record<string, string[]> = {};
      const loan = await firstLoan(page, server.url, "under_review");
      await page.goto(`${server.url}/loans/${loan}`);
      found.detail = await seriousViolations(page);
      const section = page.getByTestId("section-applicant");
      await section.getByTestId("edit").click();
      await expect(section.getByTestId("section-form")).toBeVisible();
      await section.getByLabel("Email").fill("not an email");
      await section.getByTestId("save").click();
      await expect(section.locator("[aria-invalid=true]").first()).toBeVisible();
      found["edit form with errors"] = await seriousViolations(page);

      // The conflict prompt: another admin saves first.
      const other = await browser.newContext({ colorScheme: scheme });
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
      found["conflict prompt"] = await seriousViolations(page);
      expect(found).toEqual({ detail: [], "edit form with errors": [], "conflict prompt": [] });
      expect(problems).toEqual([]);
    });

    test("the admin and security pages (users, a user, audit, password, two-factor enrolment, sessions) have no serious or critical axe violations", async ({
      page,
      server,
      problems,
    }) => {
      await signIn(page, server);
      const found: Record<string, string[]> = {};
      const want: Record<string, string[]> = {};
      await page.goto(server.url + "/admin/users");
      const user = (await page.getByTestId("user-row").first().getByRole("link").first().getAttribute("href"))!;
      for (const path of [
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
      ]) {
        await page.goto(server.url + path);
        found[path] = await seriousViolations(page);
        want[path] = [];
      }
      // The keyboard shortcuts' help, open over the list.
      await page.goto(server.url + "/loans");
      await page.keyboard.press("?");
      await expect(page.getByTestId("shortcuts-help")).toBeVisible();
      found["shortcuts help"] = await seriousViolations(page);
      want["shortcuts help"] = [];
      expect(found).toEqual(want);
      expect(problems).toEqual([]);
    });
  });
}
