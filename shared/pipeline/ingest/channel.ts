/**
 * A one-consumer async queue with backpressure: `push` resolves once the consumer has room, so a fast
 * producer feeding several gzip writers never holds more than `capacity` records per writer in memory.
 */
export class Channel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: Error | null = null;
  private wakeConsumer: (() => void) | null = null;
  private wakeProducers: Array<() => void> = [];

  constructor(private readonly capacity = 1024) {}

  async push(item: T): Promise<void> {
    if (this.closed) throw new Error("push on a closed channel");
    while (this.items.length >= this.capacity) {
      await new Promise<void>((resolve) => this.wakeProducers.push(resolve));
    }
    this.items.push(item);
    this.wakeConsumer?.();
  }

  close(): void {
    this.closed = true;
    this.wakeConsumer?.();
  }

  /** Ends the stream with an error, so a writer consuming it aborts instead of committing a partial object. */
  fail(error: Error): void {
    this.failure = error;
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.failure) throw this.failure;
      const item = this.items.shift();
      if (item !== undefined) {
        const waiting = this.wakeProducers.shift();
        waiting?.();
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wakeConsumer = resolve;
      });
      this.wakeConsumer = null;
    }
  }
}
