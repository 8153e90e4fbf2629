import type { Locator, Page } from 'playwright-core';
import type { Session } from './session';
import type { ContextMenu } from './contextMenu';
import { escapeRegExp, exact } from './text';

/** The activity bar, the side bar's views and their trees. */
export class SideBar {
  constructor(
    private readonly vs: Session,
    private readonly contextMenu: ContextMenu,
  ) {}

  private get page(): Page {
    return this.vs.page;
  }

  /** The activity bar entry of a view container, e.g. 'Robust Meta' or 'Explorer'. */
  activityBarItem(title: string): Locator {
    return this.page
      .locator('.part.activitybar .action-item a.action-label, .part.activitybar .action-item .action-label')
      .and(this.page.locator(`[aria-label^="${title.replace(/"/g, '\\"')}"]`))
      .first();
  }

  /** Shows a view container (activity bar entry, e.g. 'Robust Meta'); leaves it shown if it already is. */
  async openContainer(title: string): Promise<void> {
    const item = this.activityBarItem(title);
    await item.waitFor({ state: 'visible' });
    const li = item.locator('xpath=ancestor::li[contains(@class,"action-item")][1]');
    const checked = await li
      .evaluate((el) => (el as unknown as { classList: { contains(c: string): boolean } }).classList.contains('checked'))
      .catch(() => false);
    const sidebarVisible = await this.page
      .locator('.part.sidebar')
      .isVisible()
      .catch(() => false);
    if (!checked || !sidebarVisible) {
      await item.click();
      // the activity bar's hover would stay over the side bar's first rows and take their clicks
      await this.page
        .locator('.part.statusbar')
        .hover()
        .catch(() => undefined);
    }
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
  async clickWelcome(viewTitle: string, label: string | RegExp): Promise<void> {
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
      throw new Error(`view "${viewTitle}" has no item ${label}; it shows: ${JSON.stringify(await this.treeLabels(viewTitle))}`, { cause: err });
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
    await item
      .locator(`.actions .action-label[aria-label^="${actionTitle.replace(/"/g, '\\"')}"]`)
      .first()
      .click();
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
    await this.contextMenu.choose(actionTitle);
  }
}
