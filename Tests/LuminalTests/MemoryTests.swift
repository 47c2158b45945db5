import Dispatch
@testable import Luminal
@testable import LuminalSystem
@testable import LuminalWorker
import Synchronization
import Testing

/// What a burst of loads costs the supervisor beyond what the loaded photons keep: threads, and
/// the frames of the loads waiting for their hellos.
@Suite struct LoadMemory {
    /// File work runs `FileWork.width` pieces at once, the rest in turn: a burst of loads takes
    /// that many threads of Dispatch's overcommitting pool, not one per file.
    @Test func fileWorkRunsAtMostItsWidthAtOnce() async throws {
        let pieces = FileWork.width * 4
        let counts = PieceCounts()
        let release = DispatchSemaphore(value: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<pieces {
                group.addTask {
                    await FileWork.run {
                        counts.state.withLock { counts in
                            counts.started += 1
                            counts.running += 1
                            counts.most = max(counts.most, counts.running)
                        }
                        release.wait()
                        counts.state.withLock { counts in
                            counts.running -= 1
                            counts.finished += 1
                        }
                    }
                }
            }
            try await waitUntil("\(FileWork.width) pieces of file work running") { counts.state.withLock { $0.started } >= FileWork.width }
            // One at a time: a piece waiting for a place would start the moment one is free.
            for finished in 1...pieces {
                release.signal()
                try await waitUntil("\(finished) pieces of file work finished") { counts.state.withLock { $0.finished } >= finished }
            }
            try await group.waitForAll()
        }
        let (started, most) = counts.state.withLock { ($0.started, $0.most) }
        #expect(started == pieces)
        #expect(most == FileWork.width, "at most \(FileWork.width) pieces of file work should run at once; \(most) did")
    }

    /// A photon file is copied into every step of a load, and kept across its awaits: each copy
    /// is one pointer to the fields that the copies share.
    @Test func aPhotonFileCopiesAsOnePointerAndKeepsValueSemantics() {
        #expect(MemoryLayout<PhotonFile>.size == MemoryLayout<Int>.size)
        var file = PhotonFile(path: "/photons/a", executable: "/photons/a", arguments: [], environment: [:],
                              workingDirectory: "/photons", contentPaths: ["/photons/a"], timeouts: ManifestTimeouts())
        let copy = file
        #expect(copy == file)
        file.restart = .never
        file.limits.openFiles = 64
        #expect(file.restart == .never && file.limits.openFiles == 64)
        #expect(copy.restart == nil && copy.limits.openFiles == nil, "setting a field of one copy changed another")
        #expect(copy != file)
        #expect(Set([copy, file]).count == 2)
    }
}

/// How many pieces of file work started, finished, and ran at once.
private final class PieceCounts: Sendable {
    let state = Mutex((started: 0, finished: 0, running: 0, most: 0))
}
