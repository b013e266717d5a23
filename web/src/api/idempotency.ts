import { NetworkError } from "./errors";

/** Idempotency keys for creates. One intent (a scope such as "declare-account", and one
 * body) keeps its key until it succeeds, so a double click, a retry by hand or an
 * automatic retry after a lost answer all reach the server with the same key, and the
 * server files once. A different body is a different intent and gets a new key. */
export class IdempotencyKeys {
  private readonly pending = new Map<string, { body: string; key: string }>();

  constructor(private readonly newKey: () => string = () => crypto.randomUUID()) {}

  keyFor(scope: string, body: unknown): string {
    const text = JSON.stringify(body ?? null);
    const held = this.pending.get(scope);
    if (held && held.body === text) return held.key;
    const key = this.newKey();
    this.pending.set(scope, { body: text, key });
    return key;
  }

  settle(scope: string): void {
    this.pending.delete(scope);
  }

  /** Run a create with the intent's key; retry once with the same key when the network
   * failed. Success settles the intent; any failure keeps the key for the next try. */
  async run<T>(scope: string, body: unknown, call: (key: string) => Promise<T>): Promise<T> {
    const key = this.keyFor(scope, body);
    let result: T;
    try {
      result = await call(key);
    } catch (err) {
      if (!(err instanceof NetworkError)) throw err;
      result = await call(key);
    }
    this.settle(scope);
    return result;
  }
}
