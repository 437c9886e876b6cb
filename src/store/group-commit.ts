/**
 * Group commit: every item submitted in the same turn of the event loop is
 * written by one call to `write` (one transaction, one fsync), and each
 * submitter's promise settles when that write has returned.
 *
 * If a batch fails as a whole, its items are retried one by one, so a single
 * bad item rejects only its own promise; a failure that hits every item
 * (disk full, database closed) rejects them all.
 *
 * @example
 *   const committer = new GroupCommitter((items) => db.transaction(() => items.map(insert))())
 *   const row = await committer.submit(item)
 */
export class GroupCommitter<Item, Result> {
  private queue: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = []
  private scheduled = false
  private idleWaiters: (() => void)[] = []

  constructor(
    private readonly write: (items: Item[]) => Result[],
    private readonly afterCommit: (results: Result[]) => void = () => {},
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Resolves once everything submitted so far has been written (or failed). */
  drain(): Promise<void> {
    if (!this.scheduled && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private flush(): void {
    const batch = this.queue
    this.queue = []
    this.scheduled = false
    try {
      const results = this.write(batch.map((entry) => entry.item))
      this.settle(batch, results)
    } catch (batchError) {
      if (batch.length === 1) {
        batch[0]?.reject(batchError)
      } else {
        for (const entry of batch) {
          try {
            this.settle([entry], this.write([entry.item]))
          } catch (error) {
            entry.reject(error)
          }
        }
      }
    }
    if (this.queue.length === 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const wake of waiters) wake()
    }
  }

  private settle(batch: typeof this.queue, results: Result[]): void {
    // Publish before resolving, so a submitter that reacts to its own result
    // never sees subscribers lag behind it.
    this.afterCommit(results)
    batch.forEach((entry, index) => {
      entry.resolve(results[index] as Result)
    })
  }
}
