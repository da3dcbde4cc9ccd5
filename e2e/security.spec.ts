import { createHmac } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Page } from "@playwright/test";
import { test, expect, signIn, addUser, changePassword, admin, Server, freePort } from "./fixtures";

// Issue 19's browser acceptance: two-factor sign-in (enrol, sign out, sign
// in with a code; a wrong and a reused code refused; a recovery code works
// once), a deactivated user's open browser signed out at its next request,
// and a password change signing out the user's other browser.

/** RFC 6238 TOTP (SHA-1, six digits, 30 s) of a base32 secret at step. */
function totp(secret: string, step: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of secret.replace(/[\s=]/g, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return n.toString().padStart(6, "0");
}

// Each test starts a server and signs in several times with bcrypt at
// cost 12 on a shared 2-core machine.
test.describe.configure({ timeout: 240_000 });

const stepNow = () => Math.floor(Date.now() / 1000 / 30);

async function signOut(page: Page) {
  await page.getByTestId("logout").click();
  await expect(page).toHaveURL(/\/login$/);
}

/** The password step of signing in, ending on the code page. */
async function passwordStep(page: Page, server: Server) {
  await signIn(page, server);
  await expect(page).toHaveURL(/\/login\/code$/);
}

async function enterCode(page: Page, code: string) {
  await page.getByTestId("code-form").getByLabel("Code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
}

test("an admin enrols in two-factor sign-in, signs in with a code, and wrong, reused and spent codes are refused", async ({
  page,
  problems,
}) => {
  // A server of its own with the default: admins must use a second factor.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loandesk-e2e-2fa-"));
  const server = new Server(dir, await freePort(), { TWO_FACTOR_ROLES: "admin" });
  await server.start();
  try {
    // The admin's first sign-in leads to the enrolment and nowhere else.
    await signIn(page, server);
    await expect(page).toHaveURL(/\/account\/two-factor$/);
    await expect(page.getByTestId("two-factor-required")).toBeVisible();
    await page.goto(server.url + "/loans");
    await expect(page).toHaveURL(/\/account\/two-factor$/);
    await expect(page.getByTestId("totp-qr")).toBeVisible();
    const secret = (await page.getByTestId("totp-secret").textContent())!.replace(/\s/g, "");
    expect(secret).toHaveLength(32);

    const form = page.getByTestId("two-factor-form");
    await form.getByLabel("Password").fill(admin.password);
    await form.getByLabel("Code from the app").fill(totp(secret, stepNow()));
    await form.getByRole("button", { name: "Turn on" }).click();
    await expect(page.getByTestId("two-factor-on")).toBeVisible();
    const recovery = await page.getByTestId("recovery-code").allTextContents();
    expect(recovery).toHaveLength(10);
    await page.getByRole("link", { name: /continue/ }).click();
    await expect(page).toHaveURL(/\/loans$/);
    await signOut(page);

    // The password alone signs nobody in; a wrong code is refused.
    await passwordStep(page, server);
    const next = totp(secret, stepNow() + 1); // the next step's code (one step of drift is allowed)
    await enterCode(page, next === "000000" ? "111111" : "000000");
    await expect(page.getByTestId("login-error")).toContainText("not right");
    await page.goto(server.url + "/loans");
    await expect(page).toHaveURL(/\/login/);

    // The right code signs in.
    await passwordStep(page, server);
    await enterCode(page, next);
    await expect(page).toHaveURL(/\/loans$/);
    await expect(page.getByTestId("signed-in-user")).toContainText(admin.email);
    await signOut(page);

    // The same code again is refused: each code works once.
    await passwordStep(page, server);
    await enterCode(page, next);
    await expect(page.getByTestId("login-error")).toContainText("used already");

    // A recovery code signs in once.
    await enterCode(page, recovery[0]);
    await expect(page).toHaveURL(/\/loans$/);
    await expect(page.getByTestId("flash")).toContainText("9 left");
    await signOut(page);
    await passwordStep(page, server);
    await enterCode(page, recovery[0]);
    await expect(page.getByTestId("login-error")).toContainText("recovery code");
    await expect(page).toHaveURL(/\/login\/code$/);

    // Every step is in the audit log.
    await enterCode(page, recovery[1]);
    await expect(page).toHaveURL(/\/loans$/);
    await page.goto(server.url + "/admin/audit");
    const actions = await page.getByTestId("audit-action").allTextContents();
    for (const want of ["Turned on two-factor", "Used a recovery code", "Wrong two-factor code", "Signed in"]) {
      expect(actions).toContain(want);
    }
    expect(problems).toEqual([]);
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a deactivated user's open browser is signed out at its next request, and they cannot sign in", async ({
  page,
  browser,
  server,
  problems,
}) => {
  await signIn(page, server);
  await addUser(page, server, { email: "leaver@example.com", name: "Lata Leaver", role: "underwriter", password: "copper lantern meadow 61" });

  const context = await browser.newContext();
  const leaver = await context.newPage();
  await signIn(leaver, server, "leaver@example.com", "copper lantern meadow 61");
  await expect(leaver).toHaveURL(/\/loans$/);
  const loanLink = leaver.getByTestId("loan-row").first().getByRole("link").first();

  // The admin deactivates them from the Users page.
  await page.goto(server.url + "/admin/users");
  await page.getByTestId("user-link").filter({ hasText: "leaver@example.com" }).click();
  await page.getByTestId("deactivate").click();
  await expect(page.getByTestId("flash")).toContainText("deactivated and signed out everywhere");
  await expect(page.getByTestId("user-state")).toContainText("Deactivated");

  // Their browser, still showing the list, is signed out at the next click.
  await loanLink.click();
  await expect(leaver).toHaveURL(/\/login/);
  await signIn(leaver, server, "leaver@example.com", "copper lantern meadow 61");
  await expect(leaver.getByTestId("login-error")).toContainText("deactivated");
  await context.close();

  await page.goto(server.url + "/admin/audit");
  await expect(page.getByTestId("audit-row").first()).toContainText("Sign-in refused");
  await expect(page.getByTestId("audit-table")).toContainText("Deactivated");
  expect(problems).toEqual([]);
});

test("changing the password signs out the user's other browser", async ({ page, browser, server, problems }) => {
  await signIn(page, server);
  const context = await browser.newContext();
  const other = await context.newPage();
  await signIn(other, server);
  await expect(other).toHaveURL(/\/loans$/);

  await page.getByTestId("account-link").click();
  await changePassword(page, admin.password, "nimble saffron quarry 84");
  await expect(page.getByTestId("signed-in-user")).toContainText(admin.email);

  await other.reload();
  await expect(other).toHaveURL(/\/login/);
  await context.close();
  expect(problems).toEqual([]);
});
