@testable import Luminal
@testable import LuminalWorker
import Testing

/// The record of a photon file that failed to load, transition by transition: pure functions of
/// the record before, the failure and the restart policy.
@Suite struct FailedFileTransitions {
    static let start = ContinuousClock.now
    static let selection = PhotonSelection(base: "IPhoton", otherClasses: [])
    static let timeout = LoaderError(.handshakeTimeout, "photon file /p never said hello", file: "/p")
    static let manifest = LoaderError(.invalidManifest, "manifest /p/photon.json: key 'restrat' is not allowed", file: "/p")

    /// A policy whose backoff is exact (no jitter at `random` 0.5): 100 ms, then doubling.
    static var policy: RestartPolicy {
        var policy = RestartPolicy()
        policy.initialDelay = .milliseconds(100)
        policy.quarantineAfter = 4
        policy.quarantineRetry = .seconds(300)
        return policy
    }

    static func failing(_ errors: [LoaderError], policy: RestartPolicy = policy, stoppedAfter: Int? = nil) -> FailedFile? {
        var record: FailedFile?
        for (index, error) in errors.enumerated() {
            record = FailedFile.after(error, previous: record, path: "/p", selection: selection, policy: policy, random: 0.5,
                                      now: start + .seconds(index))
            if index + 1 == stoppedAfter { record = record?.held }
        }
        return record
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let errors: [LoaderError]
        var policy: RestartPolicy = FailedFileTransitions.policy
        var stoppedAfter: Int?
        let failures: Int
        let retryIn: Duration?
        let stopped: Bool
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "a transient failure is tried again at once", errors: [timeout], failures: 1, retryIn: .zero, stopped: false),
        Row(name: "then after the backoff", errors: [timeout, timeout], failures: 2, retryIn: .milliseconds(100), stopped: false),
        Row(name: "which doubles", errors: [timeout, timeout, timeout], failures: 3, retryIn: .milliseconds(200), stopped: false),
        Row(name: "then the quarantine retry", errors: Array(repeating: timeout, count: 4), failures: 4, retryIn: .seconds(300), stopped: false),
        Row(name: "a permanent failure waits for a change", errors: [manifest], failures: 1, retryIn: nil, stopped: false),
        Row(name: "a permanent failure after transient ones", errors: [timeout, manifest], failures: 2, retryIn: nil, stopped: false),
        Row(name: "a policy that never restarts", errors: [timeout], policy: RestartPolicy(.never), failures: 1, retryIn: nil, stopped: false),
        Row(name: "a stopped file is not retried by itself", errors: [timeout], stoppedAfter: 1, failures: 1, retryIn: nil, stopped: true),
        Row(name: "and stays stopped when it fails again", errors: [manifest, timeout], stoppedAfter: 1, failures: 2, retryIn: nil, stopped: true),
    ]

    @Test(arguments: rows)
    func aFailureGivesTheNextRecord(_ row: Row) throws {
        let record = try #require(Self.failing(row.errors, policy: row.policy, stoppedAfter: row.stoppedAfter))
        #expect(record.failures == row.failures)
        #expect(record.retryIn == row.retryIn)
        #expect(record.stopped == row.stopped)
        #expect(record.error.message == row.errors.last?.message)
        // Failures in a row count from the first.
        #expect(record.since == Self.start)
    }

    @Test func heldResumedAndDueKeepTheFailures() throws {
        let failed = try #require(Self.failing([Self.timeout, Self.timeout]))
        let held = failed.held
        #expect(held.stopped && held.retryIn == nil && held.failures == 2)
        let resumed = held.resumed
        #expect(!resumed.stopped && resumed.failures == 2)
        let due = failed.due
        #expect(due.retryIn == nil && !due.stopped && due.failures == 2)
    }
}
