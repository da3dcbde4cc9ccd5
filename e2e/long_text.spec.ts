import path from "node:path";
import { test, expect, signIn, sidewaysOverflow } from "./fixtures";
import { fixtures } from "./global-setup";

// Staff type what they are given: a name without spaces, an address or a
// URL pasted whole, a note of one long token, a file named by a scanner.
// No such text may widen a page (a card pushed past the window, the page
// scrolling sideways) at desktop or phone size: it wraps inside its box.
test("long unbroken text wraps inside its box: the loan page, its history, notes and documents, the list, the schedule and KFS, and an error page", async ({
  page,
  server,
  problems,
}) => {
  const word = (n: number, seed: string) => seed.repeat(Math.ceil(n / seed.length)).slice(0, n);
  await signIn(page, server);
  await page.goto(server.url + "/loans?status=under_review");
  await page.getByTestId("loan-row").first().getByRole("link").first().click();
  const loanPath = new URL(page.url()).pathname;
  const id = loanPath.split("/").pop()!;

  const name = "Venkata" + word(93, "narasimha");
  const applicant = page.getByTestId("section-applicant");
  await applicant.getByTestId("edit").click();
  await applicant.getByLabel("Applicant name").fill(name);
  await applicant.getByLabel("Address").fill(word(300, "Flat12BlockCSector45"));
  await applicant.getByTestId("save").click();
  await expect(applicant.getByTestId("notice")).toContainText("Saved as version");
  const terms = page.getByTestId("section-terms");
  await terms.getByTestId("edit").click();
  await terms.getByLabel("Purpose").fill(word(200, "https://example.com/quotation/"));
  await terms.getByTestId("save").click();
  await expect(terms.getByTestId("notice")).toContainText("Saved as version");

  const notes = page.getByTestId("notes-panel");
  await notes.getByLabel("Add a note").fill(word(2000, "LongReferenceNumber"));
  await notes.getByTestId("add-note").click();
  await expect(notes.getByTestId("note")).toHaveCount(1);

  const docs = page.getByTestId("documents-panel");
  await docs.getByLabel("Kind", { exact: true }).selectOption("income");
  await docs.getByLabel("File").setInputFiles({
    name: word(180, "salary_slip_scan_") + ".pdf",
    mimeType: "application/pdf",
    buffer: require("node:fs").readFileSync(path.join(fixtures, "salary-slip.pdf")),
  });
  await docs.getByTestId("upload").click();
  await expect(docs.getByTestId("document")).toHaveCount(1);

  const pages = [
    loanPath,
    `/loans?q=${encodeURIComponent(name.slice(0, 40))}`,
    `${loanPath}/schedule`,
    `${loanPath}/kfs`,
    `${loanPath}/applicant/edit`,
    `/loans/${id}${word(300, "X")}`,
    `/loans?q=${word(200, "Q")}`,
    "/admin/audit",
  ];
  for (const size of [
    { width: 1280, height: 900 },
    { width: 390, height: 844 },
  ]) {
    await page.setViewportSize(size);
    for (const p of pages) {
      await page.goto(server.url + p);
      await expect(page.locator("main")).toBeVisible();
      expect(await sidewaysOverflow(page), `${p} at ${size.width} px`).toEqual([]);
    }
  }
  // The long values are shown whole (wrapped, not cut).
  await page.goto(server.url + loanPath);
  await expect(page.locator("h1")).toContainText(name);
  await expect(page.getByTestId("note-text")).toHaveText(word(2000, "LongReferenceNumber"));
  // The over-long id (404) and search (400) are answered on purpose.
  expect(problems.filter((p) => !/status of (400|404)/.test(p))).toEqual([]);
});
