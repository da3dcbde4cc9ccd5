import { test as base, expect, Page, request } from "@playwright/test";
import { ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { binary } from "./global-setup";

export const admin = { email: "admin@example.com", password: "e2e admin password" };

/** A running Loan Desk server with its own data directory. */
export class Server {
  url = "";
  private proc?: ChildProcess;
  private log = "";
  /**
   * env is added to the server's environment. Two-factor sign-in is off
   * (TWO_FACTOR_ROLES=none) unless env says otherwise: the specs sign in
   * as the admin with the password alone, and e2e/two_factor.spec.ts
   * runs the default (admins enrol).
   *
   * port is where it listens; start moves it to another free port if
   * the first start finds it taken (see start).
   */
  constructor(
    readonly dataDir: string,
    public port: number,
    readonly env: Record<string, string> = {},
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /**
   * Starts the server and waits until it answers /ready. It counts as
   * started only once its own log says it listens: freePort's port is
   * free when asked, and another process on the machine (another spec's
   * server, another test run) may take it before this one listens, and
   * then answer /ready in its place. On a first start a taken port is
   * left for a new free one (up to 5 times); a restart keeps its port,
   * the one the test's pages use, and fails if it is taken.
   */
  async start() {
    for (let attempt = 1; ; attempt++) {
      if ((await this.launch()) === "ready") return;
      if (this.started || attempt === 5) throw new Error(`server could not listen on port ${this.port}:\n${this.log}`);
      this.port = await freePort();
      this.url = `http://127.0.0.1:${this.port}`;
    }
  }

  private started = false;

  private async launch(): Promise<"ready" | "port taken"> {
    const from = this.log.length; // the log is kept across restarts, for the attachment
    const proc = spawn(binary, [], {
      env: {
        ...process.env,
        PORT: String(this.port),
        HOST: "127.0.0.1",
        DATA_DIR: this.dataDir,
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        MONGO_URI: "",
        TWO_FACTOR_ROLES: "none",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc = proc;
    proc.stdout!.on("data", (d) => (this.log += d));
    proc.stderr!.on("data", (d) => (this.log += d));
    const exited = new Promise((r) => proc.once("exit", r));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        await exited; // its last output read
        if (/address already in use/.test(this.log.slice(from))) return "port taken";
        throw new Error(`server exited:\n${this.log}`);
      }
      if (this.log.slice(from).includes("Loan Desk is serving")) {
        try {
          const res = await fetch(this.url + "/ready");
          if (res.ok) {
            this.started = true;
            return "ready";
          }
        } catch {
          /* not serving yet */
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server not ready in 30s:\n${this.log}`);
  }

  /** Graceful stop (SIGTERM), as an operator's restart would do. */
  async stop() {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await exited;
  }

  async restart() {
    await this.stop();
    await this.start();
  }

  logs() {
    return this.log;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** What overflows sideways on the page: the page itself scrolling, or an
 * element that cuts its content off (overflow hidden or clip with content
 * wider than its box). Elements one pixel wide (screen-reader text) are
 * meant to clip, and a form field scrolls the text typed into it. */
export async function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const root = document.scrollingElement!;
    if (root.scrollWidth > window.innerWidth) out.push(`the page is ${root.scrollWidth}px wide in a ${window.innerWidth}px window`);
    for (const el of Array.from(document.body.querySelectorAll<HTMLElement>("*"))) {
      const style = getComputedStyle(el);
      if (style.overflowX !== "hidden" && style.overflowX !== "clip") continue;
      if (el.clientWidth <= 1) continue;
      if (el.matches("input, textarea, select")) continue; // a field scrolls its own text
      if (el.scrollWidth > el.clientWidth + 1) {
        const id = el.id ? `#${el.id}` : el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : el.className;
        out.push(`${el.tagName.toLowerCase()} ${id} cuts ${el.scrollWidth - el.clientWidth}px off`);
      }
    }
    return out;
  });
}

export const test = base.extend<{ server: Server; problems: string[]; phoneWidth: void }>({
  server: async ({}, use, testInfo) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "loandesk-e2e-"));
    const server = new Server(dir, await freePort());
    await server.start();
    await use(server);
    await server.stop();
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach("server.log", { body: server.logs(), contentType: "text/plain" });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  },
  // Console errors, page errors and CSP violations seen during the test;
  // every test ends by expecting none. Chromium also logs every 4xx
  // response; the ones the app answers on purpose (401 wrong password,
  // 403, 409, 413/415 refused uploads, 422 validation, 429) are not problems, a 404 or 5xx is.
  problems: async ({ page }, use) => {
    const problems: string[] = [];
    const expected = /Failed to load resource: the server responded with a status of (401|403|409|413|415|422|429)\b/;
    page.on("console", (m) => {
      if (m.type() === "error" && !expected.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await use(problems);
  },
  // Every spec runs at desktop size; the page each one ends on (in the
  // state the test left it) is also looked at 390 px wide, and any
  // sideways scroll or cut-off content fails the test. e2e/phone.spec.ts
  // visits every kind of page at that size; this keeps the states only a
  // feature spec reaches (an open conflict, a refused upload, a result
  // page) covered, for 0.1–0.8 s a test (2.3 s on the users page, measured
  // with -race tests loading the machine) instead of a second run of the
  // suite.
  phoneWidth: [
    async ({ page }, use, testInfo) => {
      await use();
      if (testInfo.status !== testInfo.expectedStatus || page.isClosed() || !/^https?:/.test(page.url())) return;
      const size = page.viewportSize();
      if (size && size.width <= 390) return; // a phone spec checks itself
      await page.setViewportSize({ width: 390, height: 844 });
      const found = await sidewaysOverflow(page);
      if (found.length > 0) throw new Error(`at 390 px, ${page.url()} overflows sideways:\n${found.join("\n")}`);
    },
    { auto: true },
  ],
});

export { expect };

export async function signIn(page: Page, server: Server, email = admin.email, password = admin.password) {
  await page.goto(server.url + "/");
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/**
 * Adds a user through the admin's Users page (page is signed in as an
 * admin). An admin-created user must choose their own password at the
 * first sign-in: the admin types a temporary one, and the user changes
 * it to user.password, as a new colleague would.
 */
export async function addUser(page: Page, server: Server, user: { email: string; name: string; role: string; password: string }) {
  const temporary = `${user.password} first`;
  // The user's first sign-in and password change are two more bcrypt
  // checks and a hash at cost 12: on a loaded 2-core machine, seconds.
  test.info().setTimeout(test.info().timeout + 30_000);
  await page.goto(server.url + "/admin/users");
  const form = page.getByTestId("user-form");
  await form.getByLabel("Email").fill(user.email);
  await form.getByLabel("Name").fill(user.name);
  await form.getByLabel("Role").selectOption(user.role);
  await form.getByLabel(/^Password/).fill(temporary);
  await form.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByTestId("flash")).toContainText(`Added ${user.email}`);

  // Their first sign-in and password change, over HTTP (the browser flow
  // is e2e/login.spec.ts's).
  const api = await request.newContext({ baseURL: server.url, maxRedirects: 0 });
  const signedIn = await api.post("/login", { form: { email: user.email, password: temporary } });
  expect(signedIn.headers()["location"]).toBe("/account/password");
  const changed = await api.post("/account/password", { form: { current: temporary, password: user.password } });
  expect(changed.status(), await changed.text()).toBe(303);
  await api.dispose();
}

/** Changes the signed-in user's password on /account/password. */
export async function changePassword(page: Page, current: string, next: string) {
  test.info().setTimeout(test.info().timeout + 20_000);
  const form = page.getByTestId("password-form");
  await form.getByLabel("Current password").fill(current);
  await form.getByLabel("New password").fill(next);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByTestId("flash")).toContainText("Your password was changed");
}
