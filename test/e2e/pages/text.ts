// Text matching shared by the page objects.

export function slug(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'session'
  );
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Monaco renders spaces as no-break spaces. */
export function monacoText(s: string): string {
  return s.replace(/\u00a0/g, ' ');
}

/** A string matches exactly (whole text, surrounding whitespace ignored); a RegExp as given. */
export function exact(label: string | RegExp): RegExp {
  return typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) : label;
}
