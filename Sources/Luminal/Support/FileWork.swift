import Dispatch

/// Runs file work that may take long (hashing a photon file, reading a manifest, listing a
/// folder) on threads of its own, never on an actor: the loader, the watcher and the control
/// socket go on answering while it runs.
enum FileWork {
    private static let queue = DispatchQueue(label: "luminal.file-work", attributes: .concurrent)

    /// The result of `body`, run on the file-work queue.
    static func run<Value: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> Value) async throws(Failure) -> Value {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, Failure>, Never>) in
            queue.async {
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
