import type { Page } from 'playwright-core';

/** What the page objects need from the running session (harness.ts's VSCode): its page, which
 * exists only once the session has started, and where to note what it did. */
export interface Session {
  readonly page: Page;
  readonly workspace: string;
  readonly options: { actionTimeoutMs?: number };
  note(line: string): void;
}
