// Waiting shared by the page objects and the E2E tests.
import type { Locator } from 'playwright-core';

/** Whether `locator` reaches `state` within `timeout` ms (false, not an error, when it does not). */
export function becomes(locator: Locator, state: 'visible' | 'hidden', timeout: number): Promise<boolean> {
  return locator.waitFor({ state, timeout }).then(
    () => true,
    () => false,
  );
}
