import Foundation

/// A fixed set of threads that Swift tasks can prefer (`Task(executorPreference:)`, `withTaskExecutorPreference`):
/// where blocking work runs (SQLite reads, libxml2 decoding, Lua), so that it never holds an event loop. Jobs run in
/// arrival order. `niceness` lowers the threads' scheduling priority (Linux: per thread), so that a pool of runaway
/// scripts yields the CPU to the sessions and API calls on the other pools.
public final class ThreadPoolExecutor: TaskExecutor, @unchecked Sendable {
    public let name: String
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var running = 0
    private var threads: [Thread] = []

    public init(name: String, threads count: Int, niceness: Int32 = 0) {
        self.name = name
        for i in 0..<max(1, count) {
            let t = Thread { [unowned(unsafe) self] in
                // On Linux the nice value is per thread: `who` 0 is the calling thread, not the whole process.
                if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
                self.loop()
            }
            t.name = "\(name)-\(i)"
            t.stackSize = 4 << 20   // Lua's C stack and libxml2's recursion live here
            threads.append(t)
            t.start()
        }
    }

    public func enqueue(_ job: UnownedJob) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Jobs waiting for a thread (not counting the ones running): the pool's backlog, for metrics and back-pressure.
    public var backlog: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    /// Jobs running now.
    public var busy: Int {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    private func loop() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head > 1024 && head * 2 > jobs.count {   // drop the consumed prefix now and then
                jobs.removeFirst(head)
                head = 0
            }
            running += 1
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
            condition.lock()
            running -= 1
            condition.unlock()
        }
    }
}
