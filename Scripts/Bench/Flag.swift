import Synchronization

/// A flag set until cleared, read by the threads and tasks a benchmark runs meanwhile.
final class Flag: Sendable {
    private let value = Atomic<Bool>(true)

    var isSet: Bool { value.load(ordering: .relaxed) }

    func clear() {
        value.store(false, ordering: .relaxed)
    }
}
