import type { Locator, Page } from 'playwright-core';
import type { Session } from './session';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeRegExp, exact } from './text';
import { becomes } from './wait';

/** The quick input widget: the command palette, quick picks, input boxes and the simple file dialog. */
export class QuickInput {
  constructor(private readonly vs: Session) {}

  private get page(): Page {
    return this.vs.page;
  }

  /** The quick input widget (command palette, quick picks, input boxes). */
  get locator(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Rows of the visible quick pick. */
  items(): Locator {
    return this.locator.locator('.quick-input-list .monaco-list-row');
  }

  /** Runs a command by its palette title ("Category: Title"), via F1, typing and Enter.
   * The palette lists the commands known when it opens, so until the command shows up (an
   * extension still starting) it is closed and opened again, for up to `timeout` ms. */
  async runCommand(title: string, opts: { timeout?: number } = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeout ?? 30_000);
    const input = this.locator.locator('.quick-input-box input');
    const row = this.row(title).first();
    for (let attempt = 0; ; attempt++) {
      await this.close();
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ state: 'visible', timeout: attempt === 0 ? 3_000 : 2_000 });
        break;
      } catch {
        if (Date.now() > deadline) {
          const shown = await this.labels();
          await this.close();
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
    await this.close();
    await this.page.keyboard.press('F1');
    const input = this.locator.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${filter}`);
    await this.items().first().waitFor({ state: 'visible' });
    await this.page.waitForTimeout(300); // let the filter settle
    const labels = await this.labels();
    await this.close();
    return labels;
  }

  /** The quick pick row whose label is `label` (a string matches the whole label). */
  row(label: string | RegExp): Locator {
    return this.items().filter({
      has: this.page.locator('.label-name, .monaco-icon-label .label-name').filter({ hasText: exact(label) }),
    });
  }

  /** The labels the quick pick shows now. */
  async labels(): Promise<string[]> {
    const labels = await this.items().locator('.label-name').allInnerTexts();
    return labels.map((l) => l.trim());
  }

  /** Waits for a quick pick (with an optional title or placeholder) and picks an item by label. */
  async pick(label: string | RegExp, opts: { title?: string | RegExp } = {}): Promise<void> {
    await this.waitFor(opts.title);
    const row = this.row(label);
    try {
      await row.first().waitFor({ state: 'visible', timeout: 15_000 });
    } catch {
      throw new Error(`quick pick has no item ${label}; it shows: ${JSON.stringify(await this.labels())}`);
    }
    await row.first().click();
  }

  /** For a multi-select quick pick: ticks the given items, then accepts with OK. */
  async pickMany(labels: (string | RegExp)[], opts: { title?: string | RegExp } = {}): Promise<void> {
    await this.waitFor(opts.title);
    for (const label of labels) {
      const row = this.row(label).first();
      await row.waitFor({ state: 'visible' });
      const box = row.locator('input[type=checkbox], .quick-input-list-checkbox, .monaco-checkbox').first();
      if ((await box.count()) > 0) await box.click();
      else await row.click();
    }
    await this.accept();
  }

  /** Types into the visible input box (showInputBox, or a quick pick's filter), then presses Enter. */
  async fill(text: string, opts: { submit?: boolean; title?: string | RegExp } = {}): Promise<void> {
    await this.waitFor(opts.title);
    const input = this.locator.locator('.quick-input-box input');
    await input.fill(text);
    if (opts.submit ?? true) await input.press('Enter');
  }

  /** The validation or prompt message under the input box. */
  async message(): Promise<string> {
    return (
      await this.locator
        .locator('.quick-input-message')
        .innerText()
        .catch(() => '')
    ).trim();
  }

  /** Accepts the quick input (Enter; the OK button of a multi-select pick). */
  async accept(): Promise<void> {
    const ok = this.locator.locator('.quick-input-action .monaco-button, .quick-input-ok .monaco-button').first();
    if (await ok.isVisible().catch(() => false)) await ok.click();
    else await this.locator.locator('.quick-input-box input').press('Enter');
  }

  /** Answers an open/save dialog (showOpenDialog/showSaveDialog: code-server shows VS Code's
   * simple file dialog in the quick input) with a path, absolute or relative to the workspace. */
  async chooseInFileDialog(p: string): Promise<void> {
    await this.waitFor();
    const abs = path.isAbsolute(p) ? p : path.join(this.vs.workspace, p);
    const value = fs.existsSync(abs) && fs.statSync(abs).isDirectory() ? abs.replace(/\/?$/, '/') : abs;
    const input = this.locator.locator('.quick-input-box input');
    // The dialog fills in its starting folder and lists it asynchronously; a path typed before
    // that is overwritten, so wait for it to settle first.
    const timeout = this.vs.options.actionTimeoutMs ?? 30_000;
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
    const hidden = () => becomes(this.locator, 'hidden', 5_000);
    if (!(await hidden())) {
      await this.locator.locator('.monaco-button').first().click(); // the dialog's OK ("Open", "Save", ...)
      if (!(await hidden())) throw new Error(`the file dialog did not accept ${value}: ${await this.message()}`);
    }
  }

  /** Waits until the quick input is visible (and its title or placeholder matches, if given). */
  async waitFor(title?: string | RegExp): Promise<void> {
    await this.locator.waitFor({ state: 'visible' });
    if (title === undefined) return;
    const re = typeof title === 'string' ? new RegExp(escapeRegExp(title)) : title;
    await this.page.waitForFunction(
      ([src, flags]) => {
        const d = (globalThis as unknown as { document: any }).document;
        const w = d.querySelector('.quick-input-widget');
        if (!w) return false;
        const t =
          (w.querySelector('.quick-input-title')?.textContent ?? '') +
          '\n' +
          (w.querySelector('.quick-input-box input')?.getAttribute('placeholder') ?? '') +
          '\n' +
          (w.querySelector('.quick-input-message')?.textContent ?? '');
        return new RegExp(src, flags).test(t);
      },
      [re.source, re.flags] as const,
      { timeout: this.vs.options.actionTimeoutMs ?? 30_000 },
    );
  }

  /** Closes the quick input if it is open (Escape). */
  async close(): Promise<void> {
    if (await this.locator.isVisible().catch(() => false)) {
      await this.page.keyboard.press('Escape');
      await this.locator.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
    }
  }
}
