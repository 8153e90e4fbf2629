import type { Locator, Page } from 'playwright-core';
import type { Session } from './session';
import type { ContextMenu } from './contextMenu';
import type { SideBar } from './sideBar';
import { exact } from './text';

/** The file explorer. */
export class Explorer {
  constructor(
    private readonly vs: Session,
    private readonly sideBar: SideBar,
    private readonly menu: ContextMenu,
  ) {}

  private get page(): Page {
    return this.vs.page;
  }

  /** Shows the Explorer. */
  async open(): Promise<void> {
    await this.sideBar.openContainer('Explorer');
  }

  /** The explorer row of a file or folder given by its path relative to the workspace ('data/omniglot');
   * parent folders are expanded on the way. */
  async item(relPath: string): Promise<Locator> {
    await this.open();
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
   * contextMenu('images', 'Evaluate Few-Shot on Folder'). Menu entries show a command's
   * title without its category. */
  async contextMenu(relPath: string, entry: string | RegExp): Promise<void> {
    const row = await this.item(relPath);
    await this.menu.open(row, entry); // right-clicking focuses the row: the menu acts on it
  }
}
