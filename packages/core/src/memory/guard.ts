import { SwitchyardError } from '../errors.js';

/** Shared open/closed bookkeeping for the in-memory adapters. */
export class Guard {
  closed = false;
  constructor(private readonly what: string) {}
  check(): void {
    if (this.closed) throw new SwitchyardError('CLOSED', `${this.what} is closed`, { source: 'memory' });
  }
}
