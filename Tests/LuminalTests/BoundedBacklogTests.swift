import Testing
@testable import LuminalSystem

/// How `BoundedBacklog` admits records: within both bounds, a lone record of any size, and
/// each refusal counted.
@Suite struct BoundedBacklogRule {
    @Test func recordsPastEitherBoundAreRefusedAndCounted() {
        let backlog = BoundedBacklog(records: 3, bytes: 100)
        #expect(backlog.admit(size: 500)) // alone, whatever its size
        #expect(!backlog.admit(size: 1)) // 501 bytes would wait
        #expect(backlog.leave(size: 500) == 0)
        #expect(backlog.admit(size: 40) && backlog.admit(size: 40))
        #expect(!backlog.admit(size: 40)) // 120 bytes
        #expect(backlog.admit(size: 20))
        #expect(!backlog.admit(size: 0)) // a fourth record
        #expect(backlog.refused == 3)
        #expect(backlog.leave(size: 40) == 2)
        #expect(backlog.admit(size: 0))
    }
}
