/**
 * End-to-end harness: drives the extension in a real VS Code (code-server 4.100.3, VS Code 1.100)
 * through Debian's Chromium with playwright-core.
 *
 *   await withVSCode({ name: 'train', workspace, vsix: [vsixPath] }, async (vs) => {
 *     await vs.quickInput.runCommand('Robust Meta: Start Training');
 *     await vs.quickInput.pick('MAVRL');
 *     await vs.notifications.waitFor(/Training started/);
 *     await vs.sideBar.openContainer('Robust Meta');
 *     await vs.sideBar.waitForTreeItem('Experiments', /run-/);
 *     await vs.screenshot('training-started');
 *   });
 *
 * This file owns the session (code-server, Chromium, artifacts); the parts of the workbench are
 * page objects under pages/ (quickInput, notifications, sideBar, contextMenu, explorer, editors,
 * panel, statusBar), reached as fields of the session.
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
import { chromium, type Browser, type Page } from 'playwright-core';
import { closeBrowser, liveBrowsers, liveServers, stopServer } from './processes';
import { ContextMenu } from './pages/contextMenu';
import { Editors } from './pages/editors';
import { Explorer } from './pages/explorer';
import { Notifications } from './pages/notifications';
import { BottomPanel } from './pages/panel';
import { QuickInput } from './pages/quickInput';
import type { Session } from './pages/session';
import { SideBar } from './pages/sideBar';
import { StatusBar } from './pages/statusBar';
import { slug } from './pages/text';

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
export const E2E_HOME = process.env.ROBUST_META_E2E_HOME ?? path.join(process.env.HOME ?? '/root', '.cache', 'robust-meta-e2e');

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

// ------------------------------------------------------------------------------------ sessions still open

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

// ------------------------------------------------------------------------------------ session

export class VSCode implements Session {
  // Page objects: one per part of the workbench.
  readonly quickInput = new QuickInput(this);
  readonly notifications = new Notifications(this, this.quickInput);
  readonly contextMenu = new ContextMenu(this);
  readonly sideBar = new SideBar(this, this.contextMenu);
  readonly explorer = new Explorer(this, this.sideBar, this.contextMenu);
  readonly editors = new Editors(this, this.quickInput);
  readonly panel = new BottomPanel(this, this.quickInput);
  readonly statusBar = new StatusBar(this);

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
    fs.writeFileSync(path.join(userDir, 'settings.json'), JSON.stringify(this.settings(), null, 2));
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
      '--bind-addr',
      '127.0.0.1:0', // a free loopback port, read back from the log
      '--auth',
      'none',
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
