import fs from "node:fs";
import path from "node:path";
import { Page } from "@playwright/test";
import { test, expect, signIn } from "./fixtures";
import { fixtures } from "./global-setup";

// Issue 19: markup stored in any field, note, user name or file name is
// shown as text and never runs: no script, no event handler, no htmx
// attribute and no javascript: link reaches the DOM, nothing sets the
// flag the payloads try to set, no dialog opens and the CSP reports
// nothing (the problems fixture fails the test on any console error).

const payloads = [
  `<script>window.__xss=1</script>`,
  `"><img src=x onerror="window.__xss=2">`,
  `<button hx-get="/logout" hx-trigger="load" hx-on:click="window.__xss=3">x</button>`,
  `javascript:window.__xss=4`,
  `<a href="javascript:window.__xss=5">link</a>`,
];

/** Nothing any payload tried is live in page: checked in the DOM itself. */
async function expectInert(page: Page, where: string) {
  await page.waitForLoadState("networkidle");
  const found = await page.evaluate(() => {
    const hits: string[] = [];
    if ((window as any).__xss !== undefined) hits.push(`window.__xss = ${(window as any).__xss}`);
    for (const el of Array.from(document.querySelectorAll("*"))) {
      for (const a of Array.from(el.attributes)) {
        const v = a.value.toLowerCase();
        // A payload's text may sit in a value or a title: that is text.
        // Live is an event handler, an htmx attribute it brought, or a
        // javascript: URL.
        const url = ["href", "src", "action", "formaction"].includes(a.name) && v.trim().startsWith("javascript:");
        if (a.name.startsWith("on") || a.name.startsWith("hx-on") || (a.name.startsWith("hx-") && v.includes("__xss")) || url) {
          hits.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value}">`);
        }
      }
      if (el.tagName === "SCRIPT" && !el.getAttribute("src") && (el.textContent ?? "").includes("__xss")) hits.push("inline script");
    }
    return hits;
  });
  expect(found, where).toEqual([]);
}

test("stored markup in fields, notes, names and file names stays inert", async ({ page, server, problems }) => {
  test.info().setTimeout(180_000);
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await signIn(page, server);
  await page.goto(server.url + "/loans?status=submitted");
  await page.getByTestId("loan-row").first().getByRole("link").first().click();
  await expect(page).toHaveURL(/\/loans\/LN-\d{4}-\d{6}$/);
  const loanURL = page.url();
  const id = loanURL.split("/").pop()!;

  // Text fields, through the JSON API with the session (same site).
  const api = page.request;
  const loan = await (await api.get(`${server.url}/api/applications/${id}`)).json();
  // Markup is refused in the application's fields (422), so what gets
  // stored there is what has no angle brackets: quotes that try to break
  // out of an attribute, and a javascript: URL.
  const refused = await api.patch(`${server.url}/api/applications/${id}`, {
    data: { version: loan.version, changes: { address: payloads[1], purpose: payloads[2] } },
  });
  expect(refused.status()).toBe(422);
  const patched = await api.patch(`${server.url}/api/applications/${id}`, {
    data: {
      version: loan.version,
      changes: { address: `12 MG Road" onmouseover="window.__xss=7" x="`, purpose: `javascript:window.__xss=4' onfocus='window.__xss=8` },
    },
  });
  expect(patched.status(), await patched.text()).toBe(200);
  // A note and a file name.
  const note = await api.post(`${server.url}/loans/${id}/notes`, { form: { text: payloads.join(" ") }, maxRedirects: 0 });
  expect(note.status(), await note.text()).toBe(303);
  const uploaded = await api.post(`${server.url}/loans/${id}/documents`, {
    multipart: {
      kind: "pan",
      file: { name: `"><img src=x onerror=window.__xss=6>.png`, mimeType: "image/png", buffer: fs.readFileSync(path.join(fixtures, "pan-card.png")) },
    },
    headers: { "HX-Request": "true" },
  });
  expect(uploaded.status(), await uploaded.text()).toBe(200);
  // A user whose name is markup (refused or stored: either way inert).
  await api.post(`${server.url}/admin/users`, {
    form: { email: "markup@example.com", name: payloads[4], role: "viewer", password: "plum tractor seventy nine" },
    maxRedirects: 0,
  });

  await page.goto(loanURL);
  await expect(page.getByTestId("document")).toHaveCount(1);
  await expect(page.locator("body")).toContainText("<script>window.__xss=1</script>"); // the note, as text
  await expect(page.locator("body")).toContainText(`onmouseover="window.__xss=7"`); // the address, as text
  await expectInert(page, "the loan page");
  // Open the edit form, where the values sit in inputs.
  await page.goto(loanURL + "/applicant/edit");
  await expectInert(page, "the applicant edit form");
  await page.goto(loanURL + "/terms/edit");
  await expectInert(page, "the terms edit form");
  await page.goto(server.url + "/loans?status=submitted");
  await expectInert(page, "the loan list");
  await page.goto(server.url + "/admin/users");
  await expectInert(page, "the users page");
  await page.goto(server.url + "/admin/audit");
  await expectInert(page, "the audit log");
  await page.goto(server.url + "/admin/queue");
  await expectInert(page, "the queue page");

  expect(dialogs).toEqual([]);
  expect(problems).toEqual([]);
});
