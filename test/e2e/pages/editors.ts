import type { FrameLocator, Locator, Page } from 'playwright-core';
import type { Session } from './session';
import * as path from 'node:path';
import type { QuickInput } from './quickInput';
import { exact, monacoText } from './text';

/** Editor tabs, text editors and webview panels. */
export class Editors {
  constructor(
    private readonly vs: Session,
    private readonly quickInput: QuickInput,
  ) {}

  private get page(): Page {
    return this.vs.page;
  }

  /** The tab of an editor or webview panel by its title. */
  tab(title: string | RegExp): Locator {
    return this.page.locator('.tabs-container .tab').filter({ has: this.page.locator('.label-name').filter({ hasText: exact(title) }) });
  }

  /** Waits for an editor tab (e.g. the dashboard's webview panel) to be open. */
  async waitForTab(title: string | RegExp, timeout?: number): Promise<Locator> {
    const tab = this.tab(title).first();
    await tab.waitFor({ state: 'visible', timeout });
    return tab;
  }

  /** The content of the visible webview (panel or view): frameLocator twice, `iframe.webview`
   * then `iframe#active-frame`. With several webviews visible, `index` picks one (DOM order). */
  webview(index = 0): FrameLocator {
    return this.page.locator('iframe.webview.ready').filter({ visible: true }).nth(index).contentFrame().frameLocator('iframe#active-frame');
  }

  /** Waits until a visible webview shows `selector`; returns that webview's content. */
  async waitForWebview(selector = 'body', opts: { index?: number; timeout?: number } = {}): Promise<FrameLocator> {
    const frame = this.webview(opts.index ?? 0);
    await frame.locator(selector).first().waitFor({ state: 'visible', timeout: opts.timeout });
    return frame;
  }

  /** The visible text of the active editor (the lines Monaco has rendered). */
  async activeText(): Promise<string> {
    return monacoText(await this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().innerText());
  }

  /** Opens a workspace file by path via Quick Open. */
  async openFile(relPath: string): Promise<void> {
    await this.quickInput.close();
    await this.page.keyboard.press('Control+P');
    const input = this.quickInput.locator.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relPath);
    // Quick Open shows the recently opened files first and filters them as the file search
    // answers: Enter on whatever row is first can open the previous file on a loaded machine,
    // so pick the row whose label is this file.
    const name = path.basename(relPath);
    const row = this.quickInput.row(name).first();
    await row.waitFor({ state: 'visible' });
    await row.click();
    await this.waitForTab(name);
  }
}
