import type { Locator, Page } from 'playwright-core';
import type { Session } from './session';

/** The status bar. */
export class StatusBar {
  constructor(private readonly vs: Session) {}

  private get page(): Page {
    return this.vs.page;
  }

  /** A status bar entry whose text matches. */
  item(text: string | RegExp): Locator {
    return this.page.locator('.part.statusbar .statusbar-item').filter({ hasText: text });
  }
}
