import type { Page } from 'playwright-core';
import type { Session } from './session';
import type { QuickInput } from './quickInput';
import { monacoText } from './text';

/** The panel under the editors (Output channels). */
export class BottomPanel {
  constructor(
    private readonly vs: Session,
    private readonly quickInput: QuickInput,
  ) {}

  private get page(): Page {
    return this.vs.page;
  }

  /** The visible text of an Output channel, chosen by its name ("Output: Show Output Channels..."). */
  async outputChannelText(channel: string): Promise<string> {
    await this.quickInput.runCommand('Output: Show Output Channels...');
    await this.quickInput.pick(channel);
    const lines = this.page.locator('.part.panel .monaco-editor .view-lines').first();
    await lines.waitFor({ state: 'visible' });
    await this.page.waitForTimeout(300); // the channel's content loads after the switch
    return monacoText(await lines.innerText());
  }
}
