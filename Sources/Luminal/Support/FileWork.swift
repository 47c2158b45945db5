import Dispatch

/// Runs work that may take long or block (hashing a photon file, reading a manifest, listing a
/// folder, spawning a worker) on threads of its own, never on an actor: the loader, the watcher
/// and the control socket go on answering while it runs.
///
/// Each piece of work gets a serial queue of its own, which libdispatch runs on its
/// overcommitting pool: a thread is found for it even while others hash at full speed, so two
/// huge files hold back neither a third file's work nor the timers on the global queue (a pool
/// of width "one per core" would).
enum FileWork {
    /// The result of `body`, run on a file-work queue.
    static func run<Value: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> Value) async throws(Failure) -> Value {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, Failure>, Never>) in
            DispatchQueue(label: "luminal.file-work").async {
                do throws(Failure) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
