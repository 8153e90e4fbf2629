import type { Locator, Page } from 'playwright-core';
import type { Session } from './session';
import { exact } from './text';
import { becomes } from './wait';

/** Context menus (right-click menus and overflow menus). */
export class ContextMenu {
  constructor(private readonly vs: Session) {}

  private get page(): Page {
    return this.vs.page;
  }

  private get menu(): Locator {
    return this.page.locator('.monaco-menu-container, .context-view .monaco-menu').first();
  }

  /** Right-clicks an element and clicks an entry of the context menu that opens. */
  async open(target: Locator, entry: string | RegExp): Promise<void> {
    // A right-click now and then opens no menu at all (seen once in CI while a run's tree item
    // re-rendered): right-click again, up to 3 times.
    for (let attempt = 1; ; attempt++) {
      await target.click({ button: 'right' });
      if (await becomes(this.menu, 'visible', 5_000)) break;
      if (attempt === 3) throw new Error(`3 right-clicks opened no context menu (for ${entry})`);
      this.vs.note(`context menu: a right-click opened no menu; trying again`);
    }
    await this.choose(entry);
  }

  /** Clicks an entry of the open context menu (a string matches the whole label). */
  async choose(entry: string | RegExp): Promise<void> {
    const menu = this.menu;
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
    const closed = () => becomes(menu, 'hidden', 2_000);
    if (!(await closed())) {
      this.vs.note(`context menu: the click on ${entry} was ignored; choosing it with Enter`);
      await item.hover({ timeout: 2_000 }).catch(() => undefined);
      if (await menu.isVisible().catch(() => false)) await this.page.keyboard.press('Enter');
      if (!(await closed())) throw new Error(`context menu entry ${entry} did not run (the menu stayed open)`);
    }
  }
}
