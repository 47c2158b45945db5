import Synchronization

/// The environment entry that marks every process of one worker, so that descendants
/// re-parented to the supervisor can still be told apart.
package enum WorkerMarker {
    /// The variable's name.
    package static let variable = "LUMINAL_WORKER"
    private static let counter = Atomic<Int>(0)

    /// A marker no other worker of any run shares: "<supervisor pid>-<its start time>.<serial>".
    package static func next() -> String {
        "\(ofThisRun)\(counter.add(1, ordering: .relaxed).newValue)"
    }

    /// What every marker of this run starts with.
    static var ofThisRun: String { prefix(of: .current) }

    /// What every marker of the run `run` starts with: "<pid>-<start time>.".
    package static func prefix(of run: ProcessIdentity) -> String {
        "\(run.tag)."
    }
}
