// Errors a user can act on. The CLI and the extension print their message alone (no stack):
// the message must say which file or value is wrong and what to do about it.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof Error && e.name === 'UserError';
}
