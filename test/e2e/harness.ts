/**
 * End-to-end harness: drives the extension in a real VS Code (code-server 4.100.3, VS Code 1.100)
 * through Debian's Chromium with playwright-core.
 *
 *   await withVSCode({ name: 'train', workspace, vsix: [vsixPath] }, async (vs) => {
 *     await vs.runCommand('Robust Meta: Start Training');
 *     await vs.pickQuickPick('MAVRL');
 *     await vs.fillInputBox('5');
 *     await vs.waitForNotification(/Training started/);
 *     await vs.openViewContainer('Robust Meta');
 *     await vs.treeItem('Experiments', /run-/).first().waitFor();
 *     await vs.screenshot('training-started');
 *   });
 *
 * Everything a session writes goes under test-output/e2e/<name>/ (user data, extensions, logs);
 * screenshots under test-output/e2e/screenshots/. A failing step leaves FAILED-<name>.png there.
 * code-server is found (or installed) by scripts/setup-code-server.sh; E2E tests run only when
 * ROBUST_META_E2E=1 (set by `npm run test:e2e`), so `npm test`, which runs everything under
 * out/test/, skips them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';

// ------------------------------------------------------------------------------------ paths

/** The repository root (the folder whose package.json is robust-meta's), from source or out/. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'robust-meta') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export const OUTPUT_DIR = path.join(repoRoot(), 'test-output', 'e2e');
export const SCREENSHOT_DIR = path.join(OUTPUT_DIR, 'screenshots');
export const CHROMIUM = process.env.ROBUST_META_E2E_CHROMIUM ?? '/usr/bin/chromium';
export const E2E_HOME =
  process.env.ROBUST_META_E2E_HOME ?? path.join(process.env.HOME ?? '/root', '.cache', 'robust-meta-e2e');

/** Reason to skip an E2E test, or false when E2E tests are enabled (ROBUST_META_E2E=1). */
export function e2eSkipReason(): string | false {
  if (process.env.ROBUST_META_E2E !== '1') return 'E2E test: run with `npm run test:e2e` (ROBUST_META_E2E=1)';
  return false;
}

/** The code-server executable: $CODE_SERVER_BIN, else the setup script's install (running it if needed). */
export function codeServerBin(): string {
  if (process.env.CODE_SERVER_BIN) return process.env.CODE_SERVER_BIN;
  const bin = path.join(E2E_HOME, 'code-server', 'node_modules', '.bin', 'code-server');
  if (fs.existsSync(bin)) return bin;
  const r = spawnSync('bash', [path.join(repoRoot(), 'scripts', 'setup-code-server.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`scripts/setup-code-server.sh failed (exit ${r.status})`);
  return r.stdout.trim().split('\n').pop()!;
}

/** The repository's packed extension (`npm run package` writes robust-meta.vsix), if there is one. */
export function repoVsix(): string | undefined {
  const p = process.env.ROBUST_META_VSIX ?? path.join(repoRoot(), 'robust-meta.vsix');
  return fs.existsSync(p) ? p : undefined;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'session';
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Monaco renders spaces as no-break spaces. */
function monacoText(s: string): string {
  return s.replace(/\u00a0/g, ' ');
}

/** A string matches exactly (whole text, surrounding whitespace ignored); a RegExp as given. */
function exact(label: string | RegExp): RegExp {
  return typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) : label;
}

// ------------------------------------------------------------------------------------ options

/** Settings that keep dialogs, walkthroughs, welcome pages and network chatter out of the way. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'security.workspace.trust.startupPrompt': 'never',
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'npm.fetchOnlinePackageInfo': false,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'chat.commandCenter.enabled': false,
  'chat.disableAIFeatures': true,
  'github.copilot.enable': { '*': false },
  'editor.minimap.enabled': false,
  'files.hotExit': 'off',
  'window.confirmBeforeClose': 'never',
  'workbench.editor.enablePreview': false,
  'workbench.view.alwaysShowHeaderActions': true,
  'explorer.compactFolders': false,
  'explorer.autoReveal': false,
  'notifications.doNotDisturbMode': false,
  'terminal.integrated.gpuAcceleration': 'off',
};

export interface VSCodeOptions {
  /** Names the session's output folder test-output/e2e/<name>/ and its screenshots. */
  name: string;
  /** Folder to open (created if missing). Default: an empty folder in the session's output. */
  workspace?: string;
  /** VSIX files to install before the server starts. */
  vsix?: string[];
  /** Extra user settings, merged over DEFAULT_SETTINGS. */
  settings?: Record<string, unknown>;
  viewport?: { width: number; height: number };
  /** Playwright's default timeout for each action/wait (ms). Default 30 s. */
  actionTimeoutMs?: number;
  /** How long to wait for the workbench after navigating (ms). Default 120 s. */
  startTimeoutMs?: number;
  /** Extra environment for code-server (and so for the extension host). */
  env?: Record<string, string>;
}

// ------------------------------------------------------------------------------------ cleanup registry

const liveServers = new Set<ChildProcess>();
const liveBrowsers = new Set<Browser>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // whole process group: server, extension host, pty hosts
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* gone */
    }
  }
}

// Whatever happens (test timeout, uncaught error, Ctrl-C), no code-server outlives the test process.
process.on('exit', () => {
  for (const c of liveServers) killGroup(c, 'SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    for (const c of liveServers) killGroup(c, 'SIGKILL');
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}

const liveSessions = new Set<VSCode>();

/** Kills every code-server and closes every browser this process started and has not closed.
 * A session still open here did not finish (a test timed out): it leaves a screenshot first,
 * FAILED-<name>-<step it was in>.png. Use it as the E2E test files' `after` hook. */
export async function killAll(): Promise<void> {
  for (const s of [...liveSessions]) {
    await s.failureScreenshot(s.currentStep ?? 'unfinished');
    await s.close();
  }
  await Promise.all([...liveBrowsers].map((b) => closeBrowser(b)));
  await Promise.all([...liveServers].map((c) => stopServer(c)));
}

async function closeBrowser(b: Browser): Promise<void> {
  liveBrowsers.delete(b);
  await Promise.race([b.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
}

async function stopServer(child: ChildProcess): Promise<void> {
  liveServers.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) {
    killGroup(child, 'SIGKILL'); // its children may linger
    return;
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  killGroup(child, 'SIGTERM');
  const t = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 8_000).unref())]);
  clearTimeout(t);
  killGroup(child, 'SIGKILL');
}

// ------------------------------------------------------------------------------------ session

export class VSCode {
  readonly dir: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly workspace: string;
  readonly logFile: string;
  readonly consoleLogFile: string;
  url = '';
  /** The step() running now, if any. */
  currentStep?: string;
  server?: ChildProcess;
  browser?: Browser;
  page!: Page;
  private serverLog = '';
  private readonly t0 = Date.now();
  /** Milliseconds each launch phase took (install, server, browser, workbench, extension host). */
  readonly timings: Record<string, number> = {};
  private mark(phase: string): void {
    this.timings[phase] = Date.now() - this.t0 - Object.values(this.timings).reduce((a, b) => a + b, 0);
  }
  private readonly screenshotPrefix: string;

  private constructor(readonly options: VSCodeOptions) {
    const name = slug(options.name);
    this.screenshotPrefix = name;
    this.dir = path.join(OUTPUT_DIR, name);
    this.userDataDir = path.join(this.dir, 'user-data');
    this.extensionsDir = path.join(this.dir, 'extensions');
    this.workspace = path.resolve(options.workspace ?? path.join(this.dir, 'workspace'));
    this.logFile = path.join(this.dir, 'code-server.log');
    this.consoleLogFile = path.join(this.dir, 'browser-console.log');
  }

  /** Starts code-server with fresh user data and extensions, installs the VSIX files, opens the
   * workspace in Chromium and waits for the workbench. On failure leaves a screenshot, cleans up
   * and throws. */
  static async launch(options: VSCodeOptions): Promise<VSCode> {
    const vs = new VSCode(options);
    liveSessions.add(vs);
    try {
      vs.currentStep = 'launch';
      await vs.start();
      vs.currentStep = undefined;
      return vs;
    } catch (err) {
      await vs.failureScreenshot();
      await vs.close();
      throw vs.decorate(err);
    }
  }

  /** The user settings: DEFAULT_SETTINGS with the session's own over them. To test Restricted
   * Mode, pass `'security.workspace.trust.enabled': true` (the trust prompt then shows). */
  settings(): Record<string, unknown> {
    return { ...DEFAULT_SETTINGS, ...this.options.settings };
  }

  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // keep code-server's config and state files out of $HOME
      XDG_CONFIG_HOME: path.join(this.dir, 'xdg-config'),
      XDG_DATA_HOME: path.join(this.dir, 'xdg-data'),
      XDG_CACHE_HOME: path.join(this.dir, 'xdg-cache'),
      ...this.options.env,
    };
    // the test runner's own switches are not the extension's business
    delete env.ROBUST_META_E2E;
    delete env.NODE_TEST_CONTEXT;
    delete env.NODE_OPTIONS;
    return env;
  }

  /** Kills a code-server that an earlier, killed run of this session left behind (its pid file). */
  private killStale(): void {
    const pidFile = path.join(this.dir, 'code-server.pid');
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : NaN;
    if (!Number.isInteger(pid) || pid <= 1) return;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(this.userDataDir)) process.kill(-pid, 'SIGKILL');
    } catch {
      /* not running */
    }
  }

  private async start(): Promise<void> {
    this.killStale();
    fs.rmSync(this.dir, { recursive: true, force: true });
    // this session's screenshots from an earlier run
    for (const f of fs.existsSync(SCREENSHOT_DIR) ? fs.readdirSync(SCREENSHOT_DIR) : []) {
      if (f.startsWith(`${this.screenshotPrefix}-`) || f.startsWith(`FAILED-${this.screenshotPrefix}`)) {
        fs.rmSync(path.join(SCREENSHOT_DIR, f), { force: true });
      }
    }
    for (const d of [this.userDataDir, this.extensionsDir, this.workspace, SCREENSHOT_DIR]) {
      fs.mkdirSync(d, { recursive: true });
    }
    const userDir = path.join(this.userDataDir, 'User');
    fs.mkdirSync(userDir, { recursive: true });
    fs.writeFileSync(
      path.join(userDir, 'settings.json'),
      JSON.stringify(this.settings(), null, 2),
    );
    const bin = codeServerBin();
    const common = ['--user-data-dir', this.userDataDir, '--extensions-dir', this.extensionsDir];

    for (const vsix of this.options.vsix ?? []) {
      const r = spawnSync(bin, [...common, '--install-extension', path.resolve(vsix), '--force'], {
        env: this.env(),
        encoding: 'utf8',
        timeout: 120_000,
      });
      fs.appendFileSync(this.logFile, `$ code-server --install-extension ${vsix}\n${r.stdout}${r.stderr}\n`);
      if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
        throw new Error(`installing ${vsix} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
      }
    }

    this.mark('install');
    const args = [
      '--bind-addr', '127.0.0.1:0', // a free loopback port, read back from the log
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      ...(this.settings()['security.workspace.trust.enabled'] === false ? ['--disable-workspace-trust'] : []),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      ...common,
      this.workspace,
    ];
    const child = spawn(bin, args, { env: this.env(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.server = child;
    liveServers.add(child);
    if (child.pid) fs.writeFileSync(path.join(this.dir, 'code-server.pid'), String(child.pid));
    const logStream = fs.createWriteStream(this.logFile, { flags: 'a' });
    logStream.write(`$ code-server ${args.join(' ')}\n`);
    const onData = (b: Buffer) => {
      logStream.write(b);
      if (this.serverLog.length < 200_000) this.serverLog += b.toString();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => logStream.end());

    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('code-server did not start listening within 60 s')), 60_000);
      const check = () => {
        const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(this.serverLog);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`code-server exited early (${code ?? sig})`));
      });
    });
    this.url = `${base}/?folder=${encodeURIComponent(this.workspace)}`;
    this.mark('server');

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
        '--no-default-browser-check',
      ],
    });
    this.browser = browser;
    liveBrowsers.add(browser);
    const context = await browser.newContext({
      viewport: this.options.viewport ?? { width: 1600, height: 1000 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    this.page = await context.newPage();
    this.page.setDefaultTimeout(this.options.actionTimeoutMs ?? 30_000);
    const consoleLog = fs.createWriteStream(this.consoleLogFile);
    this.page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleLog.write(`[${m.type()}] ${m.text()}\n`);
    });
    this.page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${e.message}\n`));
    this.page.on('close', () => consoleLog.end());

    this.mark('browser');
    await this.page.goto(this.url, { timeout: 60_000 });
    const startTimeout = this.options.startTimeoutMs ?? 120_000;
    await this.page.locator('.monaco-workbench').waitFor({ timeout: startTimeout });
    await this.page.locator('.part.statusbar').waitFor({ timeout: startTimeout });
    this.mark('workbench');
    await this.waitForExtensionHost(startTimeout);
    this.mark('extensionHost');
    fs.appendFileSync(this.logFile, `[harness] launch timings (ms): ${JSON.stringify(this.timings)}\n`);
  }

  /** How many extension hosts of this server have activated their startup extensions (their
   * log says "Eager extensions activated"); one more after each window reload. */
  extensionHostsReady(): number {
    const logs = path.join(this.userDataDir, 'logs');
    let n = 0;
    for (const session of fs.existsSync(logs) ? fs.readdirSync(logs) : []) {
      const sdir = path.join(logs, session);
      if (!fs.statSync(sdir).isDirectory()) continue;
      for (const host of fs.readdirSync(sdir)) {
        const f = path.join(sdir, host, 'remoteexthost.log');
        if (host.startsWith('exthost') && fs.existsSync(f) && fs.readFileSync(f, 'utf8').includes('Eager extensions activated')) {
          n++;
        }
      }
    }
    return n;
  }

  /** Waits until the remote extension host has started and activated its startup extensions
   * (more than `before` hosts ready): only then do the palette, views and menus show what
   * installed extensions contribute. */
  async waitForExtensionHost(timeout = 120_000, before = 0): Promise<void> {
    const deadline = Date.now() + timeout;
    while (this.extensionHostsReady() <= before) {
      if (Date.now() > deadline) throw new Error(`the extension host did not start within ${timeout / 1000} s`);
      if (this.server && this.server.exitCode !== null) throw new Error('code-server exited');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Reloads the window (as "Developer: Reload Window" does) and waits for the workbench and a
   * new extension host. */
  async reload(): Promise<void> {
    const before = this.extensionHostsReady();
    const timeout = this.options.startTimeoutMs ?? 120_000;
    await this.page.reload({ timeout: 60_000 });
    await this.page.locator('.monaco-workbench').waitFor({ timeout });
    await this.waitForExtensionHost(timeout, before);
  }

  // ---------------------------------------------------------------------------------- palette & quick input

  /** The quick input widget (command palette, quick picks, input boxes). */
  get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Rows of the visible quick pick. */
  quickPickItems(): Locator {
    return this.quickInput.locator('.quick-input-list .monaco-list-row');
  }

  /** Runs a command by its palette title ("Category: Title"), via F1, typing and Enter.
   * The palette lists the commands known when it opens, so until the command shows up (an
   * extension still starting) it is closed and opened again, for up to `timeout` ms. */
  async runCommand(title: string, opts: { timeout?: number } = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeout ?? 30_000);
    const input = this.quickInput.locator('.quick-input-box input');
    const row = this.quickPickRow(title).first();
    for (let attempt = 0; ; attempt++) {
      await this.closeQuickInput();
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ state: 'visible', timeout: attempt === 0 ? 3_000 : 2_000 });
        break;
      } catch {
        if (Date.now() > deadline) {
          const shown = await this.quickPickLabels();
          await this.closeQuickInput();
          throw new Error(`command "${title}" is not in the palette; it shows: ${JSON.stringify(shown)}`);
        }
      }
    }
    if (await row.evaluate((el) => (el as unknown as { classList: { contains(c: string): boolean } }).classList.contains('focused'))) {
      await input.press('Enter');
    } else {
      await row.click();
    }
    // the palette is gone, or replaced by the command's own quick pick / input box
    await this.page
      .waitForFunction(
        (text) => {
          const d = (globalThis as unknown as { document: any }).document;
          const w = d.querySelector('.quick-input-widget');
          const input = w?.querySelector('.quick-input-box input');
          return !w || w.style.display === 'none' || !input || input.value !== text;
        },
        `>${title}`,
        { timeout: 5_000 },
      )
      .catch(() => undefined);
  }

  /** The labels the command palette lists for `filter` (e.g. 'Robust Meta:'): the commands
   * contributed and enabled now. */
  async paletteCommands(filter: string): Promise<string[]> {
    await this.closeQuickInput();
    await this.page.keyboard.press('F1');
    const input = this.quickInput.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${filter}`);
    await this.quickPickItems().first().waitFor({ state: 'visible' });
    await this.page.waitForTimeout(300); // let the filter settle
    const labels = await this.quickPickLabels();
    await this.closeQuickInput();
    return labels;
  }

  /** The quick pick row whose label is `label` (a string matches the whole label). */
  quickPickRow(label: string | RegExp): Locator {
    return this.quickPickItems().filter({
      has: this.page.locator('.label-name, .monaco-icon-label .label-name').filter({ hasText: exact(label) }),
    });
  }

  /** The labels the quick pick shows now. */
  async quickPickLabels(): Promise<string[]> {
    const labels = await this.quickPickItems().locator('.label-name').allInnerTexts();
    return labels.map((l) => l.trim());
  }

  /** Waits for a quick pick (with an optional title or placeholder) and picks an item by label. */
  async pickQuickPick(label: string | RegExp, opts: { title?: string | RegExp } = {}): Promise<void> {
    await this.waitForQuickInput(opts.title);
    const row = this.quickPickRow(label);
    try {
      await row.first().waitFor({ state: 'visible', timeout: 15_000 });
    } catch {
      throw new Error(`quick pick has no item ${label}; it shows: ${JSON.stringify(await this.quickPickLabels())}`);
    }
    await row.first().click();
  }

  /** For a multi-select quick pick: ticks the given items, then accepts with OK. */
  async pickQuickPickMany(labels: (string | RegExp)[], opts: { title?: string | RegExp } = {}): Promise<void> {
    await this.waitForQuickInput(opts.title);
    for (const label of labels) {
      const row = this.quickPickRow(label).first();
      await row.waitFor({ state: 'visible' });
      const box = row.locator('input[type=checkbox], .quick-input-list-checkbox, .monaco-checkbox').first();
      if ((await box.count()) > 0) await box.click();
      else await row.click();
    }
    await this.acceptQuickInput();
  }

  /** Types into the visible input box (showInputBox, or a quick pick's filter), then presses Enter. */
  async fillInputBox(text: string, opts: { submit?: boolean; title?: string | RegExp } = {}): Promise<void> {
    await this.waitForQuickInput(opts.title);
    const input = this.quickInput.locator('.quick-input-box input');
    await input.fill(text);
    if (opts.submit ?? true) await input.press('Enter');
  }

  /** The validation or prompt message under the input box. */
  async inputBoxMessage(): Promise<string> {
    return (await this.quickInput.locator('.quick-input-message').innerText().catch(() => '')).trim();
  }

  /** Accepts the quick input (Enter; the OK button of a multi-select pick). */
  async acceptQuickInput(): Promise<void> {
    const ok = this.quickInput.locator('.quick-input-action .monaco-button, .quick-input-ok .monaco-button').first();
    if (await ok.isVisible().catch(() => false)) await ok.click();
    else await this.quickInput.locator('.quick-input-box input').press('Enter');
  }

  /** Answers an open/save dialog (showOpenDialog/showSaveDialog: code-server shows VS Code's
   * simple file dialog in the quick input) with a path, absolute or relative to the workspace. */
  async chooseInFileDialog(p: string): Promise<void> {
    await this.waitForQuickInput();
    const abs = path.isAbsolute(p) ? p : path.join(this.workspace, p);
    const value = fs.existsSync(abs) && fs.statSync(abs).isDirectory() ? abs.replace(/\/?$/, '/') : abs;
    const input = this.quickInput.locator('.quick-input-box input');
    // The dialog fills in its starting folder and lists it asynchronously; a path typed before
    // that is overwritten, so wait for it to settle first.
    const timeout = this.options.actionTimeoutMs ?? 30_000;
    await this.page.waitForFunction(
      () => {
        const d = (globalThis as unknown as { document: any }).document;
        const w = d.querySelector('.quick-input-widget');
        const v = w?.querySelector('.quick-input-box input')?.value ?? '';
        return v.startsWith('/') && w.querySelectorAll('.quick-input-list .monaco-list-row').length > 0;
      },
      undefined,
      { timeout },
    );
    const settled = async () => {
      for (let i = 0; i < 4; i++) {
        await this.page.waitForTimeout(200);
        if ((await input.inputValue()) !== value) return false;
      }
      return true;
    };
    for (let attempt = 0; ; attempt++) {
      await input.fill(value);
      if (await settled()) break;
      if (attempt === 4) throw new Error(`the file dialog keeps changing the typed path ${value}`);
    }
    await input.press('Enter');
    const hidden = () => this.quickInput.waitFor({ state: 'hidden', timeout: 5_000 }).then(() => true, () => false);
    if (!(await hidden())) {
      await this.quickInput.locator('.monaco-button').first().click(); // the dialog's OK ("Open", "Save", ...)
      if (!(await hidden())) throw new Error(`the file dialog did not accept ${value}: ${await this.inputBoxMessage()}`);
    }
  }

  /** Waits until the quick input is visible (and its title or placeholder matches, if given). */
  async waitForQuickInput(title?: string | RegExp): Promise<void> {
    await this.quickInput.waitFor({ state: 'visible' });
    if (title === undefined) return;
    const re = typeof title === 'string' ? new RegExp(escapeRegExp(title)) : title;
    await this.page.waitForFunction(
      ([src, flags]) => {
        const d = (globalThis as unknown as { document: any }).document;
        const w = d.querySelector('.quick-input-widget');
        if (!w) return false;
        const t = (w.querySelector('.quick-input-title')?.textContent ?? '') + '\n' +
          (w.querySelector('.quick-input-box input')?.getAttribute('placeholder') ?? '') + '\n' +
          (w.querySelector('.quick-input-message')?.textContent ?? '');
        return new RegExp(src, flags).test(t);
      },
      [re.source, re.flags] as const,
      { timeout: this.options.actionTimeoutMs ?? 30_000 },
    );
  }

  /** Closes the quick input if it is open (Escape). */
  async closeQuickInput(): Promise<void> {
    if (await this.quickInput.isVisible().catch(() => false)) {
      await this.page.keyboard.press('Escape');
      await this.quickInput.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------------------------- notifications & dialogs

  /** Notification toasts whose message matches `text` (substring or RegExp). */
  notification(text: string | RegExp): Locator {
    return this.page
      .locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item')
      .filter({ has: this.page.locator('.notification-list-item-message').filter({ hasText: text }) });
  }

  /** Waits for a notification toast whose message matches `text`; returns it. */
  async waitForNotification(text: string | RegExp, timeout?: number): Promise<Locator> {
    const n = this.notification(text).first();
    try {
      await n.waitFor({ state: 'visible', timeout });
    } catch (err) {
      // Toasts hide after a while; the notification center keeps them.
      const inCenter = await this.notificationCenterMessages();
      const re = typeof text === 'string' ? new RegExp(escapeRegExp(text)) : text;
      if (inCenter.some((m) => re.test(m))) return n;
      await this.page.keyboard.press('Escape');
      const shown = await this.notificationMessages();
      throw new Error(
        `no notification matching ${text}; toasts: ${JSON.stringify(shown)}; notification center: ${JSON.stringify(inCenter)}`,
        { cause: err },
      );
    }
    return n;
  }

  /** Opens the notification center and returns the messages it lists (it stays open). */
  async notificationCenterMessages(): Promise<string[]> {
    const center = this.page.locator('.notifications-center');
    if (!(await center.isVisible().catch(() => false))) {
      await this.runCommand('Notifications: Show Notifications').catch(() => undefined);
    }
    await center.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => undefined);
    return (await center.locator('.notification-list-item-message').allInnerTexts()).map((s) => s.trim());
  }

  /** The messages of the visible notification toasts. */
  async notificationMessages(): Promise<string[]> {
    return (await this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts()).map((s) =>
      s.trim(),
    );
  }

  /** Clicks a button (e.g. "Open Dashboard") on the notification matching `text`. */
  async clickNotificationButton(text: string | RegExp, button: string | RegExp): Promise<void> {
    const n = await this.waitForNotification(text);
    await n.locator('.monaco-button').filter({ hasText: exact(button) }).first().click();
  }

  /** Closes all notification toasts. */
  async clearNotifications(): Promise<void> {
    const toasts = this.page.locator('.notifications-toasts .notification-toast');
    for (let i = 0; i < 20 && (await toasts.count()) > 0; i++) {
      const close = toasts.first().locator('.codicon-notifications-clear, .codicon-close').first();
      if (await close.isVisible().catch(() => false)) {
        await close.click().catch(() => undefined);
      } else {
        await toasts.first().hover().catch(() => undefined);
        await close.click({ timeout: 2_000 }).catch(() => undefined);
      }
    }
  }

  /** A modal dialog (showInformationMessage(..., { modal: true }), confirmations). */
  get dialog(): Locator {
    return this.page.locator('.monaco-dialog-box');
  }

  /** Waits for a modal dialog and clicks one of its buttons. */
  async clickDialogButton(button: string | RegExp): Promise<void> {
    await this.dialog.waitFor({ state: 'visible' });
    await this.dialog.locator('.monaco-button').filter({ hasText: exact(button) }).first().click();
  }

  // ---------------------------------------------------------------------------------- views & trees

  /** The activity bar entry of a view container, e.g. 'Robust Meta' or 'Explorer'. */
  activityBarItem(title: string): Locator {
    return this.page
      .locator('.part.activitybar .action-item a.action-label, .part.activitybar .action-item .action-label')
      .and(this.page.locator(`[aria-label^="${title.replace(/"/g, '\\"')}"]`))
      .first();
  }

  /** Shows a view container (activity bar entry, e.g. 'Robust Meta'); leaves it shown if it already is. */
  async openViewContainer(title: string): Promise<void> {
    const item = this.activityBarItem(title);
    await item.waitFor({ state: 'visible' });
    const li = item.locator('xpath=ancestor::li[contains(@class,"action-item")][1]');
    const checked = await li
      .evaluate((el) => (el as unknown as { classList: { contains(c: string): boolean } }).classList.contains('checked'))
      .catch(() => false);
    const sidebarVisible = await this.page.locator('.part.sidebar').isVisible().catch(() => false);
    if (!checked || !sidebarVisible) await item.click();
    await this.page
      .locator('.part.sidebar .composite.title')
      .filter({ hasText: new RegExp(escapeRegExp(title), 'i') })
      .first()
      .waitFor({ state: 'visible' });
  }

  /** A view's pane in the side bar by its title, e.g. 'Experiments'. */
  view(title: string): Locator {
    return this.page
      .locator('.part.sidebar .pane, .part.auxiliarybar .pane, .part.panel .pane')
      .filter({
        has: this.page.locator('.pane-header .title').filter({ hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`, 'i') }),
      })
      .first();
  }

  /** Expands a view's pane if it is collapsed. (A container's only view has a hidden header:
   * the container's title shows the view's name, and the view cannot be collapsed.) */
  async expandView(title: string): Promise<Locator> {
    const pane = this.view(title);
    const header = pane.locator('.pane-header').first();
    await header.waitFor({ state: 'attached' });
    if ((await header.isVisible()) && (await header.getAttribute('aria-expanded')) === 'false') await header.click();
    return pane;
  }

  /** Clicks a button or link of a view's welcome content (viewsWelcome), e.g. 'Start Training'. */
  async clickViewWelcome(viewTitle: string, label: string | RegExp): Promise<void> {
    const pane = await this.expandView(viewTitle);
    await pane
      .locator('.welcome-view-content .monaco-button, .welcome-view-content a')
      .filter({ hasText: exact(label) })
      .first()
      .click();
  }

  /** Tree items (rows) in a view whose label matches (a string matches the whole label). */
  treeItem(viewTitle: string, label: string | RegExp): Locator {
    return this.view(viewTitle)
      .locator('.monaco-list-row')
      .filter({ has: this.page.locator('.monaco-icon-label .label-name, .label-name').filter({ hasText: exact(label) }) });
  }

  /** Labels of the rows a view shows now. */
  async treeLabels(viewTitle: string): Promise<string[]> {
    return (await this.view(viewTitle).locator('.monaco-list-row .label-name').allInnerTexts()).map((s) => s.trim());
  }

  /** Waits for a tree item in a view; returns it. */
  async waitForTreeItem(viewTitle: string, label: string | RegExp, timeout?: number): Promise<Locator> {
    await this.expandView(viewTitle);
    const item = this.treeItem(viewTitle, label).first();
    try {
      await item.waitFor({ state: 'visible', timeout });
    } catch (err) {
      throw new Error(
        `view "${viewTitle}" has no item ${label}; it shows: ${JSON.stringify(await this.treeLabels(viewTitle))}`,
        { cause: err },
      );
    }
    return item;
  }

  /** Expands a collapsed tree item. */
  async expandTreeItem(item: Locator): Promise<void> {
    if ((await item.getAttribute('aria-expanded')) === 'false') {
      await item.locator('.monaco-tl-twistie').click();
    }
  }

  /** Clicks an inline action (hover icon) of a tree item by its title, e.g. 'Stop Training'. */
  async clickTreeItemAction(item: Locator, actionTitle: string): Promise<void> {
    await item.hover();
    await item.locator(`.actions .action-label[aria-label^="${actionTitle.replace(/"/g, '\\"')}"]`).first().click();
  }

  /** Clicks an action in a view's title bar by its title, e.g. 'Refresh'. */
  async clickViewAction(viewTitle: string, actionTitle: string): Promise<void> {
    const pane = await this.expandView(viewTitle);
    const header = pane.locator('.pane-header').first();
    // a container's only view shows its actions in the container's title bar
    const bar = (await header.isVisible()) ? header : this.page.locator('.part.sidebar .composite.title').first();
    await bar.hover();
    const label = `[aria-label^="${actionTitle.replace(/"/g, '\\"')}"]`;
    const sel = `.actions .action-label${label}, .title-actions .action-label${label}`;
    const action = bar.locator(sel).first();
    if (await action.isVisible().catch(() => false)) {
      await action.click();
      return;
    }
    // not inline: look in the '...' overflow menu
    await bar.locator('.actions .codicon-toolbar-more, .title-actions .codicon-toolbar-more').first().click();
    await this.clickContextMenuEntry(actionTitle);
  }

  /** Right-clicks an element and clicks an entry of the context menu that opens. */
  async contextMenu(target: Locator, entry: string | RegExp): Promise<void> {
    await target.click({ button: 'right' });
    await this.clickContextMenuEntry(entry);
  }

  /** Clicks an entry of the open context menu (a string matches the whole label). */
  async clickContextMenuEntry(entry: string | RegExp): Promise<void> {
    const menu = this.page.locator('.monaco-menu-container, .context-view .monaco-menu').first();
    await menu.waitFor({ state: 'visible' });
    const item = menu.locator('.action-item:not(.disabled) .action-label').filter({ hasText: exact(entry) }).first();
    try {
      await item.waitFor({ state: 'visible', timeout: 10_000 });
    } catch (err) {
      const shown = (await menu.locator('.action-item .action-label').allInnerTexts()).map((s) => s.trim()).filter(Boolean);
      await this.page.keyboard.press('Escape');
      throw new Error(`context menu has no entry ${entry}; it shows: ${JSON.stringify(shown)}`, { cause: err });
    }
    await item.hover();
    await item.click();
    // A click right after the menu opened is sometimes ignored (the menu stays open with the
    // entry highlighted): then choose the highlighted entry with the keyboard.
    const closed = () => menu.waitFor({ state: 'hidden', timeout: 2_000 }).then(() => true, () => false);
    if (!(await closed())) {
      this.note(`context menu: the click on ${entry} was ignored; choosing it with Enter`);
      await item.hover({ timeout: 2_000 }).catch(() => undefined);
      if (await menu.isVisible().catch(() => false)) await this.page.keyboard.press('Enter');
      if (!(await closed())) throw new Error(`context menu entry ${entry} did not run (the menu stayed open)`);
    }
  }

  // ---------------------------------------------------------------------------------- explorer

  /** Shows the Explorer. */
  async openExplorer(): Promise<void> {
    await this.openViewContainer('Explorer');
  }

  /** The explorer row of a file or folder given by its path relative to the workspace ('data/omniglot');
   * parent folders are expanded on the way. */
  async explorerItem(relPath: string): Promise<Locator> {
    await this.openExplorer();
    const parts = relPath.split(/[\\/]/).filter(Boolean);
    const tree = this.page.locator('.explorer-folders-view');
    await tree.waitFor({ state: 'visible' });
    let row: Locator | undefined;
    for (let i = 0; i < parts.length; i++) {
      const level = i + 1;
      row = tree
        .locator(`.monaco-list-row[aria-level="${level}"]`)
        .filter({ has: this.page.locator('.label-name').filter({ hasText: exact(parts[i]) }) })
        .first();
      await row.waitFor({ state: 'visible' });
      if (i < parts.length - 1 && (await row.getAttribute('aria-expanded')) === 'false') await row.click();
    }
    return row!;
  }

  /** Opens the explorer's context menu on a file or folder and clicks an entry, e.g.
   * explorerContextMenu('images', 'Evaluate Few-Shot on Folder'). Menu entries show a command's
   * title without its category. */
  async explorerContextMenu(relPath: string, entry: string | RegExp): Promise<void> {
    const row = await this.explorerItem(relPath);
    await this.contextMenu(row, entry); // right-clicking focuses the row: the menu acts on it
  }

  // ---------------------------------------------------------------------------------- editors & webviews

  /** The tab of an editor or webview panel by its title. */
  editorTab(title: string | RegExp): Locator {
    return this.page.locator('.tabs-container .tab').filter({ has: this.page.locator('.label-name').filter({ hasText: exact(title) }) });
  }

  /** Waits for an editor tab (e.g. the dashboard's webview panel) to be open. */
  async waitForEditorTab(title: string | RegExp, timeout?: number): Promise<Locator> {
    const tab = this.editorTab(title).first();
    await tab.waitFor({ state: 'visible', timeout });
    return tab;
  }

  /** The content of the visible webview (panel or view): frameLocator twice, `iframe.webview`
   * then `iframe#active-frame`. With several webviews visible, `index` picks one (DOM order). */
  webview(index = 0): FrameLocator {
    return this.page
      .locator('iframe.webview.ready')
      .filter({ visible: true })
      .nth(index)
      .contentFrame()
      .frameLocator('iframe#active-frame');
  }

  /** Waits until a visible webview shows `selector`; returns that webview's content. */
  async waitForWebview(selector = 'body', opts: { index?: number; timeout?: number } = {}): Promise<FrameLocator> {
    const frame = this.webview(opts.index ?? 0);
    await frame.locator(selector).first().waitFor({ state: 'visible', timeout: opts.timeout });
    return frame;
  }

  /** The visible text of the active editor (the lines Monaco has rendered). */
  async activeEditorText(): Promise<string> {
    return monacoText(await this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().innerText());
  }

  /** Opens a workspace file by path via Quick Open. */
  async openFile(relPath: string): Promise<void> {
    await this.closeQuickInput();
    await this.page.keyboard.press('Control+P');
    const input = this.quickInput.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relPath);
    await this.quickPickItems().first().waitFor({ state: 'visible' });
    await input.press('Enter');
    await this.waitForEditorTab(path.basename(relPath));
  }

  // ---------------------------------------------------------------------------------- panel & status bar

  /** The visible text of an Output channel, chosen by its name ("Output: Show Output Channels..."). */
  async outputChannelText(channel: string): Promise<string> {
    await this.runCommand('Output: Show Output Channels...');
    await this.pickQuickPick(channel);
    const lines = this.page.locator('.part.panel .monaco-editor .view-lines').first();
    await lines.waitFor({ state: 'visible' });
    await this.page.waitForTimeout(300); // the channel's content loads after the switch
    return monacoText(await lines.innerText());
  }

  /** A status bar entry whose text matches. */
  statusBarItem(text: string | RegExp): Locator {
    return this.page.locator('.part.statusbar .statusbar-item').filter({ hasText: text });
  }

  // ---------------------------------------------------------------------------------- artifacts

  /** Appends a line from the harness to the session's code-server.log. */
  note(line: string): void {
    try {
      fs.appendFileSync(this.logFile, `[harness ${new Date().toISOString()}] ${line}\n`);
    } catch {
      /* the folder may be gone */
    }
  }

  /** Saves a screenshot as test-output/e2e/screenshots/<session>-<name>.png; returns its path. */
  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${this.screenshotPrefix}-${slug(name)}.png`);
    await this.page.screenshot({ path: file, timeout: 15_000 });
    return file;
  }

  /** A screenshot named FAILED-<session>[-<step>].png, best effort. */
  async failureScreenshot(step?: string): Promise<string | undefined> {
    if (!this.page || this.page.isClosed()) return undefined;
    try {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `FAILED-${this.screenshotPrefix}${step ? '-' + slug(step) : ''}.png`);
      await this.page.screenshot({ path: file, timeout: 15_000 });
      return file;
    } catch {
      return undefined;
    }
  }

  /** Runs one named step; if it throws, leaves FAILED-<session>-<step>.png and rethrows. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const outer = this.currentStep;
    this.currentStep = name;
    try {
      const result = await fn();
      this.currentStep = outer;
      return result;
    } catch (err) {
      const shot = await this.failureScreenshot(name);
      (err as { e2eScreenshot?: string }).e2eScreenshot ??= shot;
      throw this.decorate(err, `step "${name}"`);
    }
  }

  /** Adds where to look (screenshot, logs) to an error's message. */
  decorate(err: unknown, what?: string): Error {
    const e = err instanceof Error ? err : new Error(String(err));
    if ((e as { e2eDecorated?: boolean }).e2eDecorated) return e;
    const shot = (e as { e2eScreenshot?: string }).e2eScreenshot;
    const lines = [
      `${what ? what + ': ' : ''}${e.message}`,
      shot ? `  screenshot: ${path.relative(process.cwd(), shot)}` : '',
      `  code-server log: ${path.relative(process.cwd(), this.logFile)}`,
      `  extension host logs: ${path.relative(process.cwd(), path.join(this.userDataDir, 'logs'))}`,
      `  browser console: ${path.relative(process.cwd(), this.consoleLogFile)}`,
    ].filter(Boolean);
    e.message = lines.join('\n');
    (e as { e2eDecorated?: boolean }).e2eDecorated = true;
    return e;
  }

  /** Closes Chromium and kills code-server (with the processes it started). Safe to call twice. */
  async close(): Promise<void> {
    liveSessions.delete(this);
    if (this.browser) await closeBrowser(this.browser);
    if (this.server) await stopServer(this.server);
  }
}

/**
 * Launches VS Code, runs `fn`, and always cleans up. If `fn` throws, a screenshot
 * FAILED-<name>.png is saved first and the error names the screenshot and the logs.
 */
export async function withVSCode<T>(options: VSCodeOptions, fn: (vs: VSCode) => Promise<T>): Promise<T> {
  const vs = await VSCode.launch(options);
  try {
    return await fn(vs);
  } catch (err) {
    const shot = (err as { e2eScreenshot?: string }).e2eScreenshot ?? (await vs.failureScreenshot());
    (err as { e2eScreenshot?: string }).e2eScreenshot = shot;
    throw vs.decorate(err);
  } finally {
    await vs.close();
  }
}
