#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// `transform` of each of `items`, in order, worked out on up to as many threads as there are
/// cores (at most 4): for a batch of independent system calls, such as reading `/proc`.
package func parallelMap<Item: Sendable, Result: Sendable>(_ items: [Item], _ transform: @Sendable (Item) -> Result) -> [Result] {
    let parts = max(1, min(4, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), items.count))
    guard parts > 1 else { return items.map(transform) }
    let results = Mutex<[Int: [Result]]>([:])
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        let local = stride(from: part, to: items.count, by: parts).map { transform(items[$0]) }
        results.withLock { $0[part] = local }
    }
    let done = results.withLock { $0 }
    return items.indices.map { done[$0 % parts]![$0 / parts] }
}
