import type { Locator, Page } from 'playwright-core';
import type { Session } from './session';
import { exact } from './text';

/** Context menus (right-click menus and overflow menus). */
export class ContextMenu {
  constructor(private readonly vs: Session) {}

  private get page(): Page {
    return this.vs.page;
  }

  /** Right-clicks an element and clicks an entry of the context menu that opens. */
  async open(target: Locator, entry: string | RegExp): Promise<void> {
    await target.click({ button: 'right' });
    await this.choose(entry);
  }

  /** Clicks an entry of the open context menu (a string matches the whole label). */
  async choose(entry: string | RegExp): Promise<void> {
    const menu = this.page.locator('.monaco-menu-container, .context-view .monaco-menu').first();
    await menu.waitFor({ state: 'visible' });
    const item = menu
      .locator('.action-item:not(.disabled) .action-label')
      .filter({ hasText: exact(entry) })
      .first();
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
    const closed = () =>
      menu.waitFor({ state: 'hidden', timeout: 2_000 }).then(
        () => true,
        () => false,
      );
    if (!(await closed())) {
      this.vs.note(`context menu: the click on ${entry} was ignored; choosing it with Enter`);
      await item.hover({ timeout: 2_000 }).catch(() => undefined);
      if (await menu.isVisible().catch(() => false)) await this.page.keyboard.press('Enter');
      if (!(await closed())) throw new Error(`context menu entry ${entry} did not run (the menu stayed open)`);
    }
  }
}
