import Foundation

/// Min-heap of (time, device index). Stale entries are skipped by the caller (it checks the device's own time).
final class WakeSchedule: @unchecked Sendable {
    private let lock = NSLock()
    private var heap: [(Double, Int)] = []

    func push(_ time: Double, _ index: Int) {
        lock.withLock {
            heap.append((time, index))
            var i = heap.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                if heap[p].0 <= heap[i].0 { break }
                heap.swapAt(p, i)
                i = p
            }
        }
    }

    var nextTime: Double? { lock.withLock { heap.first?.0 } }

    /// The earliest entry if it is due.
    func popDue(now: Double) -> Int? {
        lock.withLock {
            guard let top = heap.first, top.0 <= now else { return nil }
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < heap.count && heap[l].0 < heap[m].0 { m = l }
                    if r < heap.count && heap[r].0 < heap[m].0 { m = r }
                    if m == i { break }
                    heap.swapAt(i, m)
                    i = m
                }
            }
            return top.1
        }
    }
}
