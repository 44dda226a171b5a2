import Foundation
import CSQLite

/// One database: a single writer thread that commits queued writes in groups (one transaction for everything that
/// arrived while the previous commit ran), and a pool of reader connections. The engine behind the connections is
/// SQLite (one file in WAL mode, `SQLDatabase.sqlite`) or PostgreSQL (the PostgresStore target).
public final class SQLDatabase: @unchecked Sendable {
    /// The SQLite file, or the PostgreSQL URL without its password.
    public let path: String
    public let dialect: SQLDialect
    private let writer: any SQLConnection
    private let writeLock = NSCondition()
    private var pending: [WriteJob] = []
    private var stopping = false
    private var thread: Thread?
    private let readers: [PooledReader]
    private let readerCursor = Counter()
    private let closeConnections: () -> Void

    struct WriteJob {
        let work: (any SQLConnection) throws -> Void
        let done: (Error?) -> Void
        /// Runs alone, outside a transaction (checkpoints).
        var direct: ((any SQLConnection) -> Void)? = nil
    }

    final class PooledReader: @unchecked Sendable {
        let lock = NSLock()
        let connection: any SQLConnection
        init(_ c: any SQLConnection) { connection = c }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value &+= 1; return value }
    }

    /// A database over connections already opened and migrated; `close` is called once the writer has stopped.
    public init(path: String, writer: any SQLConnection, readers: [any SQLConnection], close: @escaping () -> Void = {}) {
        self.path = path
        dialect = writer.dialect
        self.writer = writer
        self.readers = readers.map(PooledReader.init)
        closeConnections = close
        // unowned(unsafe): deinit calls close(), which waits for this thread to finish, so the object outlives every
        // access; a checked `unowned` traps when the last release happens with the thread still running.
        let t = Thread { [unowned(unsafe) self] in self.writerLoop() }
        t.name = "corral-db-writer"
        thread = t
        t.start()
    }

    /// One SQLite file in WAL mode, created and migrated if needed.
    public static func sqlite(path: String, readers readerCount: Int = 4, migrations: [Migration]) throws -> SQLDatabase {
        let writer = try SQLiteConnection(path: path)
        try writer.execute("PRAGMA journal_mode=WAL")
        // NORMAL in WAL mode survives process crashes (kill -9); only an OS crash can lose the last commits.
        try writer.execute("PRAGMA synchronous=NORMAL")
        try writer.execute("PRAGMA foreign_keys=ON")
        // 64 MiB of page cache for the writer (the default is 2 MiB): at 1M devices a write touches a dozen B-trees
        // (devices' indexes, the trigram index, parameters); with 2 MiB their pages were evicted between commits,
        // spilled mid-transaction and read back from the WAL (bench populate: 0.5 ms per device at 20k, growing).
        try writer.execute("PRAGMA cache_size=-65536")
        try Migrator.migrate(writer, migrations)
        var rs: [any SQLConnection] = []
        for _ in 0..<max(1, readerCount) {
            let c = try SQLiteConnection(path: path)
            try c.execute("PRAGMA query_only=1")
            try c.execute("PRAGMA cache_size=-16384")
            c.enableDeadlines()
            rs.append(c)
        }
        return SQLDatabase(path: path, writer: writer, readers: rs)
    }

    deinit { close() }

    public func close() {
        writeLock.lock()
        stopping = true
        writeLock.signal()
        writeLock.unlock()
        while thread?.isFinished == false { usleep(1000) }
        if thread != nil { thread = nil; closeConnections() }
    }

    /// Runs `work` inside the next group commit and returns once that transaction is durable.
    public func write<T: Sendable>(_ work: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, Error>) in
            var result: T?
            let job = WriteJob(work: { result = try work($0) }, done: { error in
                if let error { cont.resume(throwing: error) } else { cont.resume(returning: result!) }
            })
            writeLock.lock()
            if stopping {
                writeLock.unlock()
                cont.resume(throwing: SQLiteError(code: SQLITE_MISUSE, message: "database is closed"))
                return
            }
            pending.append(job)
            writeLock.signal()
            writeLock.unlock()
        }
    }

    /// PRAGMA wal_checkpoint(TRUNCATE) on the writer thread, outside any transaction (SQLite only: PostgreSQL
    /// checkpoints by itself).
    public func checkpoint() async throws {
        guard dialect == .sqlite else { return }
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, Error>) in
            writeLock.lock()
            pending.append(WriteJob(work: { _ in }, done: { _ in }, direct: { c in
                do { try c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); cont.resume() } catch { cont.resume(throwing: error) }
            }))
            writeLock.signal()
            writeLock.unlock()
        }
    }

    /// Synchronous read on a pooled reader connection (sees every committed write).
    public func read<T>(_ work: (any SQLConnection) throws -> T) throws -> T {
        let reader = readers[readerCursor.next() % readers.count]
        reader.lock.lock()
        defer { reader.lock.unlock() }
        return try reader.connection.run(within: ReadDeadline.seconds, work)
    }

    private func writerLoop() {
        while true {
            writeLock.lock()
            while pending.isEmpty && !stopping { writeLock.wait() }
            if pending.isEmpty && stopping { writeLock.unlock(); return }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            writeLock.unlock()
            let direct = batch.compactMap(\.direct)
            let transactional = batch.filter { $0.direct == nil }
            if !transactional.isEmpty { commit(transactional) }
            for job in direct { job(writer) }
        }
    }

    /// One transaction per batch; each job in its own savepoint so a failing job does not undo the others.
    private func commit(_ batch: [WriteJob]) {
        var outcomes: [Error?] = Array(repeating: nil, count: batch.count)
        do {
            try writer.execute("BEGIN IMMEDIATE")
            for (i, job) in batch.enumerated() {
                if writer.isAutocommit {
                    // SQLite aborted the transaction: nothing of this group can be committed any more.
                    outcomes[i] = SQLiteError(code: SQLITE_ABORT, message: "transaction aborted by an earlier error in the same commit group")
                    continue
                }
                do {
                    try writer.execute("SAVEPOINT job")
                    try job.work(writer)
                    try writer.execute("RELEASE job")
                } catch {
                    outcomes[i] = error
                    try? writer.execute("ROLLBACK TO job")
                    try? writer.execute("RELEASE job")
                }
            }
            if writer.isAutocommit { throw SQLiteError(code: SQLITE_ABORT, message: "transaction aborted") }
            try writer.execute("COMMIT")
        } catch {
            try? writer.execute("ROLLBACK")
            for i in outcomes.indices where outcomes[i] == nil { outcomes[i] = error }
        }
        for (job, outcome) in zip(batch, outcomes) { job.done(outcome) }
    }
}
