// The HTML shell of every panel: a strict Content Security Policy (no remote anything; scripts only
// with this page's nonce; images and styles only from the webview's own resource origin), the
// bundled script and stylesheet, and a body that names the panel kind. Pure, unit-tested.
import { randomBytes } from 'crypto';
import type { PanelKind } from './webviewProtocol';

export interface PanelHtmlOptions {
  kind: PanelKind;
  title: string;
  /** webview.cspSource */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce: string;
}

/**
 * 32 characters from [A-Za-z0-9], fresh for every page, from the system's cryptographic random
 * source: a nonce a page could predict would let injected script run.
 */
export function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  while (out.length < 32) {
    for (const b of randomBytes(64)) if (b < 248 && out.length < 32) out += chars.charAt(b % chars.length);
  }
  return out;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return ["default-src 'none'", `img-src ${cspSource} data:`, `style-src ${cspSource}`, `font-src ${cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
}

export function panelHtml(o: PanelHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body data-view="${o.kind}">
<main id="app" aria-busy="true"><p class="loading">Loading…</p></main>
<script nonce="${o.nonce}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}
