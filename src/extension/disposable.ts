// A base for objects that own listeners and other disposables (as in vscode-extension-samples):
// register() them once, dispose() releases all, in reverse order.
import type * as vscode from 'vscode';

export abstract class Disposable implements vscode.Disposable {
  private disposables: vscode.Disposable[] = [];
  private disposed = false;

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  protected register<T extends vscode.Disposable>(d: T): T {
    if (this.disposed) d.dispose();
    else this.disposables.push(d);
    return d;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.disposables.reverse()) {
      try {
        d.dispose();
      } catch {
        // One failing disposable must not keep the others alive.
      }
    }
    this.disposables = [];
  }
}

/**
 * Runs `fn` once, `ms` after the first trigger() of a burst; triggers while it waits join that run.
 * Not a trailing debounce: a training run changes its files and reports steps many times a second,
 * for hours, and a timer reset on every event would never fire (the tree once missed new runs so).
 */
export class Coalescer implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly ms: number,
    private readonly fn: () => void,
  ) {}
  trigger(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fn();
    }, this.ms);
  }
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
