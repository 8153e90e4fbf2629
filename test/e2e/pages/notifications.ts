import type { Locator, Page } from 'playwright-core';
import type { Session } from './session';
import type { QuickInput } from './quickInput';
import { escapeRegExp, exact } from './text';

/** Notification toasts, the notification center and modal dialogs. */
export class Notifications {
  constructor(
    private readonly vs: Session,
    private readonly quickInput: QuickInput,
  ) {}

  private get page(): Page {
    return this.vs.page;
  }

  /** Notification toasts whose message matches `text` (substring or RegExp). */
  toast(text: string | RegExp): Locator {
    return this.page
      .locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item')
      .filter({ has: this.page.locator('.notification-list-item-message').filter({ hasText: text }) });
  }

  /** Waits for a notification toast whose message matches `text`; returns it. */
  async waitFor(text: string | RegExp, timeout?: number): Promise<Locator> {
    const n = this.toast(text).first();
    try {
      await n.waitFor({ state: 'visible', timeout });
    } catch (err) {
      // Toasts hide after a while; the notification center keeps them.
      const inCenter = await this.centerMessages();
      const re = typeof text === 'string' ? new RegExp(escapeRegExp(text)) : text;
      if (inCenter.some((m) => re.test(m))) return n;
      await this.page.keyboard.press('Escape');
      const shown = await this.messages();
      throw new Error(`no notification matching ${text}; toasts: ${JSON.stringify(shown)}; notification center: ${JSON.stringify(inCenter)}`, { cause: err });
    }
    return n;
  }

  /** Opens the notification center and returns the messages it lists (it stays open). */
  async centerMessages(): Promise<string[]> {
    const center = this.page.locator('.notifications-center');
    if (!(await center.isVisible().catch(() => false))) {
      await this.quickInput.runCommand('Notifications: Show Notifications').catch(() => undefined);
    }
    await center.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => undefined);
    return (await center.locator('.notification-list-item-message').allInnerTexts()).map((s) => s.trim());
  }

  /** The messages of the visible notification toasts. */
  async messages(): Promise<string[]> {
    return (await this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts()).map((s) => s.trim());
  }

  /** Clicks a button (e.g. "Open Dashboard") on the notification matching `text`. */
  async clickButton(text: string | RegExp, button: string | RegExp): Promise<void> {
    const n = await this.waitFor(text);
    await n
      .locator('.monaco-button')
      .filter({ hasText: exact(button) })
      .first()
      .click();
  }

  /** Closes all notification toasts. */
  async clear(): Promise<void> {
    const toasts = this.page.locator('.notifications-toasts .notification-toast');
    for (let i = 0; i < 20 && (await toasts.count()) > 0; i++) {
      const close = toasts.first().locator('.codicon-notifications-clear, .codicon-close').first();
      if (await close.isVisible().catch(() => false)) {
        await close.click().catch(() => undefined);
      } else {
        await toasts
          .first()
          .hover()
          .catch(() => undefined);
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
    await this.dialog
      .locator('.monaco-button')
      .filter({ hasText: exact(button) })
      .first()
      .click();
  }
}
