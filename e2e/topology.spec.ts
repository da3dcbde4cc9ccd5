import { test, expect, signIn, admin, Server } from "./fixtures";
import { ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { binary } from "./global-setup";

// The scale-out topology on one machine (cmd/cluster, package cluster):
// `loandesk db`, three `loandesk serve` and two `loandesk jobs`
// processes, and Debian's nginx in front of the web processes with
// deploy/nginx/one-machine.conf (round robin, no sticky sessions). A
// signed-in browser works through nginx while its requests go to every
// instance in turn, and while one instance is SIGKILLed and started
// again: nginx passes a request the dead instance refuses to the next.
// The Go side (cluster/topology_test.go) proves the counts under
// concurrency.

const root = path.join(__dirname, "..");
const clusterBinary = path.join(__dirname, ".tmp", "cluster");

function nginxInstalled() {
  return spawnSync("sh", ["-c", "command -v nginx || test -x /usr/sbin/nginx"]).status === 0;
}

type Proc = { name: string; url: string; pid: number };
type Answer = { ok?: boolean; error?: string; web?: Proc[]; accessLog?: string[] };

/** The topology, driven through cmd/cluster's -control commands. */
class Cluster {
  url = "";
  web: Proc[] = [];
  private proc?: ChildProcess;
  private answers: ((a: Answer) => void)[] = [];
  private log = "";

  async start() {
    execFileSync("go", ["build", "-o", clusterBinary, "./cmd/cluster"], { cwd: root, stdio: "inherit" });
    this.proc = spawn(clusterBinary, ["-binary", binary, "-seed", "60", "-control"], {
      cwd: root,
      env: { ...process.env, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password, TWO_FACTOR_ROLES: "none", MONGO_URI: "" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.proc.stderr!.on("data", (d) => (this.log += d));
    const first = new Promise<Answer & { url: string }>((resolve, reject) => {
      this.answers.push(resolve as (a: Answer) => void);
      this.proc!.once("exit", (code) => reject(new Error(`cluster exited (${code}):\n${this.log}`)));
    });
    readline.createInterface({ input: this.proc.stdout! }).on("line", (line) => this.answers.shift()?.(JSON.parse(line)));
    const started = await first;
    this.url = started.url;
    this.web = started.web!;
  }

  async send(command: string): Promise<Answer> {
    const answer = new Promise<Answer>((resolve) => this.answers.push(resolve));
    this.proc!.stdin!.write(command + "\n");
    const a = await answer;
    if (a.error) throw new Error(`${command}: ${a.error}\n${this.log}`);
    return a;
  }

  /** nginx's access log: each request with the instances it was passed to. */
  async accessLog() {
    return (await this.send("log")).accessLog!.map((line) => ({
      line,
      status: Number(/" (\d{3}) upstream=/.exec(line)?.[1]),
      upstreams: (/upstream="([^"]*)"/.exec(line)?.[1] ?? "").split(", ").filter((u) => u && u !== "-"),
    }));
  }

  async stop() {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.stdin!.end(); // the end of its input stops it
    await exited;
  }

  logs() {
    return this.log;
  }
}

const cluster = new Cluster();

test.beforeAll(async () => {
  if (!nginxInstalled()) {
    if (process.env.CI) throw new Error("nginx is not installed: under CI the topology spec must run (scripts/test.sh installs it)");
    return;
  }
  test.setTimeout(180_000); // the build and three web processes' start
  await cluster.start();
});

test.afterAll(async () => {
  await cluster.stop();
});

test("a signed-in browser keeps working through nginx while its requests go round robin, and while a web process is SIGKILLed and started again", async ({
  page,
  problems,
}) => {
  test.skip(!nginxInstalled() && !process.env.CI, "nginx is not installed (apt-get install nginx)");
  test.setTimeout(120_000);
  const host = (p: Proc) => p.url.replace("http://", "");
  const name = (addr: string) => cluster.web.find((w) => host(w) === addr)?.name ?? addr;

  await signIn(page, { url: cluster.url } as Server);
  await expect(page).toHaveURL(/\/loans/);
  const links = page.getByTestId("loan-row").getByRole("link");
  await expect(links.first()).toBeVisible();
  const loans = (await links.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).pathname))).filter((p) => /^\/loans\/LN-/.test(p));
  expect(loans.length).toBeGreaterThanOrEqual(6);
  await page.goto(cluster.url + "/loans?status=submitted");
  const editable = (await links.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).pathname))).filter((p) => /^\/loans\/LN-/.test(p));
  expect(editable.length).toBeGreaterThan(0);

  // Opens loan i's page and checks it is the signed-in page.
  const open = async (i: number) => {
    await page.goto(cluster.url + loans[i % loans.length]);
    await expect(page).toHaveURL(new RegExp(loans[i % loans.length] + "$"));
    await expect(page.getByTestId("loan-id")).toBeVisible();
  };
  // Opens a submitted application, edits its applicant address and saves
  // it (htmx PUT).
  const edit = async (address: string) => {
    await page.goto(cluster.url + editable[0]);
    const applicant = page.getByTestId("section-applicant");
    await applicant.getByTestId("edit").click({ timeout: 10_000 });
    await applicant.getByLabel("Address").fill(address);
    await applicant.getByTestId("save").click();
    await expect(applicant.getByTestId("notice")).toContainText("Saved as version");
    await expect(applicant).toContainText(address);
  };
  const answeredBy = (lines: { upstreams: string[] }[]) => {
    const by: Record<string, number> = {};
    for (const l of lines) if (l.upstreams.length) by[name(l.upstreams.at(-1)!)] = (by[name(l.upstreams.at(-1)!)] ?? 0) + 1;
    return by;
  };

  // Round robin: the session's requests go to every instance in turn.
  let seen = (await cluster.accessLog()).length;
  for (let i = 0; i < 3; i++) await open(i);
  await edit("14, Round Robin Lane, Pune 411001");
  let lines = (await cluster.accessLog()).slice(seen);
  const roundRobin = answeredBy(lines);
  console.log(`topology: ${lines.length} browser requests through nginx, answered by ${JSON.stringify(roundRobin)}`);
  expect(Object.keys(roundRobin).sort()).toEqual(["web1", "web2", "web3"]);
  expect(lines.filter((l) => l.status >= 400)).toEqual([]);

  // web2 dies (SIGKILL: no graceful shutdown). The browser goes on; the
  // requests nginx sends to web2 are refused and passed on.
  const killed = host(cluster.web[1]);
  seen = (await cluster.accessLog()).length;
  await cluster.send("kill 2");
  for (let i = 3; i < 6; i++) await open(i);
  await edit("15, Failover Street, Pune 411001");
  lines = (await cluster.accessLog()).slice(seen);
  const passedOn = lines.filter((l) => l.upstreams.length > 1 && l.upstreams[0] === killed);
  const afterKill = answeredBy(lines);
  console.log(
    `topology: web2 SIGKILLed; ${lines.length} browser requests, answered by ${JSON.stringify(afterKill)}, ` +
      `${passedOn.length} refused by web2 and passed on by nginx, ${lines.filter((l) => l.status >= 500).length} errors`,
  );
  expect(passedOn.length).toBeGreaterThan(0);
  expect(afterKill["web2"]).toBeUndefined();
  expect(lines.filter((l) => l.status >= 400)).toEqual([]);

  // Another web2 starts on its port; nginx takes it back (3 s after its
  // last refusal) and the same session is signed in there too.
  const restart = Date.now();
  await cluster.send("start 2");
  const ready = Date.now();
  seen = (await cluster.accessLog()).length;
  let back = 0;
  for (let i = 0; back === 0 && Date.now() - restart < 30_000; i++) {
    await open(i);
    lines = (await cluster.accessLog()).slice(seen);
    back = lines.filter((l) => l.upstreams.at(-1) === killed && l.status === 200).length;
    if (back === 0) await page.waitForTimeout(500);
  }
  await edit("16, Restarted Road, Pune 411001");
  lines = (await cluster.accessLog()).slice(seen);
  console.log(
    `topology: web2 started again (ready in ${((ready - restart) / 1000).toFixed(1)} s); it answered ${back} request(s) ${((Date.now() - restart) / 1000).toFixed(1)} s after its start; ` +
      `${lines.length} browser requests since, answered by ${JSON.stringify(answeredBy(lines))}`,
  );
  expect(back).toBeGreaterThan(0);
  expect(lines.filter((l) => l.status >= 400)).toEqual([]);
  expect(problems).toEqual([]);
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) {
    await testInfo.attach("cluster.log", { body: cluster.logs(), contentType: "text/plain" });
  }
});
