/**
 * Group commit: items submitted while no write is running, within the same
 * turn of the event loop, are written by one call to `write` (one
 * transaction, one fsync); items submitted while a write is in flight (an
 * asynchronous backend such as PostgreSQL) form the next batch. One batch is
 * written at a time, so batches commit in submission order. Each submitter's
 * promise settles when its batch's write has returned.
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
  private queue: Pending<Item, Result>[] = []
  private scheduled = false
  private writing = false
  private idleWaiters: (() => void)[] = []

  constructor(
    private readonly write: (items: Item[]) => Result[] | Promise<Result[]>,
    private readonly afterCommit: (results: Result[]) => void = () => {},
    /** A failure of `afterCommit`: the commit stands and its submitters still get their results. */
    private readonly onAfterCommitError: (error: unknown) => void = () => {},
  ) {}

  submit(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      this.schedule()
    })
  }

  /** Resolves once everything submitted so far has been written (or failed). */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private isIdle(): boolean {
    return !this.scheduled && !this.writing && this.queue.length === 0
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.queue.length === 0) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      void this.flush()
    })
  }

  private async flush(): Promise<void> {
    const batch = this.queue
    this.queue = []
    this.writing = true
    try {
      await this.writeBatch(batch)
    } finally {
      this.writing = false
    }
    if (this.queue.length > 0) {
      this.schedule()
      return
    }
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const wake of waiters) wake()
  }

  private async writeBatch(batch: Pending<Item, Result>[]): Promise<void> {
    let results: Result[]
    try {
      results = await this.write(batch.map((entry) => entry.item))
    } catch (batchError) {
      if (batch.length === 1) batch[0]?.reject(batchError)
      else for (const entry of batch) await this.writeAlone(entry)
      return
    }
    this.settle(batch, results)
  }

  private async writeAlone(entry: Pending<Item, Result>): Promise<void> {
    let results: Result[]
    try {
      results = await this.write([entry.item])
    } catch (error) {
      entry.reject(error)
      return
    }
    this.settle([entry], results)
  }

  /** Outside the write's try: once committed, nothing here may make an item be written again. */
  private settle(batch: Pending<Item, Result>[], results: Result[]): void {
    // Publish before resolving, so a submitter that reacts to its own result
    // never sees subscribers lag behind it.
    try {
      this.afterCommit(results)
    } catch (error) {
      this.onAfterCommitError(error)
    }
    batch.forEach((entry, index) => {
      entry.resolve(results[index] as Result)
    })
  }
}

interface Pending<Item, Result> {
  item: Item
  resolve: (result: Result) => void
  reject: (error: unknown) => void
}
