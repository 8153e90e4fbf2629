// The webview's side of the channel to the extension host: typed post, typed receive, and the
// persisted state the panel serializer revives from.
import type { HostMessage, PanelState, ViewMessage } from '../src/extension/webviewProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

export function post(msg: ViewMessage): void {
  api.postMessage(msg);
}

export function saveState(state: PanelState): void {
  api.setState(state);
}

export function onHostMessage(handler: (msg: HostMessage) => void): void {
  window.addEventListener('message', (e: MessageEvent) => {
    const data = e.data as HostMessage | undefined;
    // Messages come only from the host (the webview's own origin); anything without a type is not ours.
    if (data && typeof data === 'object' && typeof data.type === 'string') handler(data);
  });
}
