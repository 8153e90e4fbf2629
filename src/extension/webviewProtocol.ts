// The webview protocol is declared in src/formats/webview.ts (types and validators, shared with
// the webview bundle); re-exported here for the extension's modules.
export * from '../formats/webview';
