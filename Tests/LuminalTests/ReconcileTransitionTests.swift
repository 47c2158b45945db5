@testable import Luminal
import Testing

/// Reconciling a photon file's record with what the watcher read on disk, row by row: a pure
/// function of where the record stands, what was seen, and whether a finished save made the file
/// ready early.
@Suite struct ReconcileTransitions {
    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let condition: FileCondition
        let seen: FileObservation.Outline
        var early = false
        let steps: [ReconcileStep]
        var testDescription: String { name }
    }

    static let serving = FileCondition(serving: "a")
    static let servingFailedB = FileCondition(serving: "a", failedVersion: "b")
    static let failed = FileCondition(failedVersion: "b")
    static let held = FileCondition(failedVersion: "b", held: true)
    static let loading = FileCondition(loading: true)

    static let rows: [Row] = [
        // Nothing known of the file yet.
        Row(name: "a new usable file is loaded and started", condition: FileCondition(), seen: .readable(checksum: "a"), steps: [.load]),
        Row(name: "a new unusable file is recorded as failed", condition: FileCondition(), seen: .unusable(version: "x", reported: false),
            steps: [.failLoad(version: "x", record: true)]),
        Row(name: "a new unusable file the scan reported is not reported again", condition: FileCondition(),
            seen: .unusable(version: "x", reported: true), steps: [.failLoad(version: "x", record: false)]),
        Row(name: "an unknown file gone has its records forgotten", condition: FileCondition(), seen: .gone, steps: [.forget]),
        Row(name: "an unknown file the scan passes over is left alone", condition: FileCondition(), seen: .passedOver, steps: []),
        // A serving file.
        Row(name: "serving bytes unchanged: nothing", condition: serving, seen: .readable(checksum: "a"), steps: []),
        Row(name: "new bytes of a serving file are reloaded", condition: serving, seen: .readable(checksum: "b"), steps: [.reload]),
        Row(name: "a serving file made unusable is a failed reload, never an unload", condition: serving,
            seen: .unusable(version: "x", reported: false), steps: [.failReload(version: "x")]),
        Row(name: "a serving file gone is unloaded", condition: serving, seen: .gone, steps: [.forget, .unload]),
        Row(name: "a serving file the scan now passes over is unloaded", condition: serving, seen: .passedOver, steps: [.unload]),
        Row(name: "a serving file gone after a finished save waits", condition: serving, seen: .gone, early: true, steps: [.wait]),
        Row(name: "a serving file unusable after a finished save waits", condition: serving,
            seen: .unusable(version: "x", reported: false), early: true, steps: [.wait]),
        Row(name: "new bytes after a finished save are reloaded at once", condition: serving, seen: .readable(checksum: "b"), early: true,
            steps: [.reload]),
        // A serving file whose newest version failed.
        Row(name: "the failed bytes are not tried again", condition: servingFailedB, seen: .readable(checksum: "b"), steps: []),
        Row(name: "the same unusable version is not tried again", condition: FileCondition(serving: "a", failedVersion: "x"),
            seen: .unusable(version: "x", reported: false), steps: []),
        Row(name: "back to the serving bytes ends the failed reload", condition: servingFailedB, seen: .readable(checksum: "a"),
            steps: [.endFailedReload]),
        Row(name: "third bytes are reloaded", condition: servingFailedB, seen: .readable(checksum: "c"), steps: [.reload]),
        // A failed file.
        Row(name: "a failed file changed is loaded again", condition: failed, seen: .readable(checksum: "c"), steps: [.load]),
        Row(name: "a failed file unchanged is not", condition: failed, seen: .readable(checksum: "b"), steps: []),
        Row(name: "a failed file broken another way is recorded again", condition: failed,
            seen: .unusable(version: "y", reported: false), steps: [.failLoad(version: "y", record: true)]),
        Row(name: "a failed file gone is forgotten", condition: failed, seen: .gone, steps: [.forget]),
        // A failed file the operator stopped.
        Row(name: "a held file changed stays held", condition: held, seen: .readable(checksum: "c"), steps: []),
        Row(name: "a held file broken another way stays held", condition: held, seen: .unusable(version: "y", reported: false), steps: []),
        Row(name: "a held file gone is forgotten", condition: held, seen: .gone, steps: [.forget]),
        // Another load of the file is under way (an operator's, a retry's).
        Row(name: "a file being loaded is looked at again once quiet", condition: loading, seen: .readable(checksum: "a"), steps: [.wait]),
        Row(name: "a file gone while being loaded is looked at again once loaded", condition: loading, seen: .gone, steps: [.wait]),
        Row(name: "a file passed over while being loaded is looked at again once loaded", condition: loading, seen: .passedOver,
            steps: [.wait]),
        Row(name: "a file unusable while being loaded is looked at again once loaded", condition: loading,
            seen: .unusable(version: "x", reported: false), steps: [.wait]),
    ]

    @Test(arguments: rows) func row(_ row: Row) {
        #expect(row.condition.steps(seeing: row.seen, early: row.early) == row.steps)
    }
}
