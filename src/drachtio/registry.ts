/**
 * The connected apps and which one gets a request: round robin over the authenticated apps that
 * route the method (and carry the tag, when one is asked for), as drachtio-server's
 * ClientController::selectClientForRequestOutsideDialog picks them.
 */
import type { AppConnection } from './app-connection.js';

export class AppRegistry {
  private readonly apps: AppConnection[] = [];
  /** Round-robin offset per verb. */
  private readonly offsets = new Map<string, number>();

  add(app: AppConnection): void {
    this.apps.push(app);
  }

  remove(app: AppConnection): void {
    const i = this.apps.indexOf(app);
    if (i >= 0) this.apps.splice(i, 1);
  }

  get size(): number {
    return this.apps.length;
  }

  all(): readonly AppConnection[] {
    return this.apps;
  }

  /** An app routing `verb` (lower-cased here) and carrying `tag` ('' = any), round robin. */
  select(verb: string, tag = ''): AppConnection | undefined {
    const v = verb.toLowerCase();
    const candidates = this.apps.filter((a) => a.authenticated && !a.closed && a.routes.has(v));
    if (candidates.length === 0) return undefined;
    const start = (this.offsets.get(v) ?? 0) % candidates.length;
    this.offsets.set(v, start + 1);
    for (let i = 0; i < candidates.length; i++) {
      const a = candidates[(start + i) % candidates.length]!;
      if (a.hasTag(tag)) return a;
    }
    return undefined;
  }
}
