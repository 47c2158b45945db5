import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
@testable import LuminalWorker
import Synchronization
import Testing

/// Photon files and manifests are read only when they are regular files, without blocking, and
/// within their bounds.
@Suite struct FileReading {
    @Test func aFIFOOrADeviceIsRefusedWithoutBeingReadOrBlocking() throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        let fifo = Paths.join(folder.path, "fifo")
        #expect(mkfifo(fifo, 0o755) == 0)
        for path in [fifo, "/dev/zero"] {
            let hashing = try #require(throws: SystemError.self) { try FileDigest.sha256(of: [path]) }
            #expect(hashing.errno == EINVAL)
            let reading = try #require(throws: SystemError.self) { try Paths.read(path, limit: 16) }
            #expect(reading.errno == EINVAL)
        }
    }

    @Test func aFileOverTheHashLimitIsRefusedAtOnce() throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        let huge = folder.write("huge", "")
        #expect(truncate(huge, Int(FileDigest.maxBytes) + 1) == 0) // sparse: no disk used
        let error = try #require(throws: SystemError.self) { try FileDigest.sha256(of: [huge]) }
        #expect(error.errno == EFBIG)
    }

    @Test func filesOverTheHashLimitTogetherAreRefusedBeforeAByteIsRead() throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        let halves = ["first", "second"].map { folder.write($0, "") }
        for half in halves { #expect(truncate(half, Int(FileDigest.maxBytes / 2) + 1) == 0) } // sparse
        var chunks = 0
        let error = try #require(throws: SystemError.self) {
            try FileDigest.sha256(of: halves) {
                chunks += 1
                return false
            }
        }
        #expect(error.errno == EFBIG)
        #expect(chunks == 0, "\(chunks) chunks were read before the refusal")
    }

    @Test func anAbandonedHashStopsBetweenChunks() throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        let file = folder.write("file", String(repeating: "x", count: 1 << 20))
        let error = try #require(throws: SystemError.self) { try FileDigest.sha256(of: [file]) { true } }
        #expect(error.errno == ECANCELED)
    }

    @Test func aManifestOverOneMebibyteIsRefused() throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        folder.write("pkg/photon.json", #"{"exec": "run", "args": ["\#(String(repeating: "x", count: Manifest.maxBytes))"]}"#)
        folder.script("pkg/run", "exit 0")
        let error = try #require(throws: LoaderError.self) { try PhotonScan.resolve(Paths.join(folder.path, "pkg")) }
        #expect(error.code == .invalidManifest)
        #expect(error.message.contains("larger than 1 MiB"))
    }

    /// A flag and a count that spinning file work shares with the test.
    final class Spinners: Sendable {
        let running = Atomic(0)
        let released = Atomic(false)
    }

    @Test func fileWorkBusyOnEveryCoreHoldsBackNeitherMoreFileWorkNorTheGlobalQueue() async throws {
        let spinners = Spinners()
        defer { spinners.released.store(true, ordering: .releasing) }
        let count = 4 * max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let busy = (0..<count).map { _ in
            Task {
                await FileWork.run {
                    spinners.running.add(1, ordering: .relaxed)
                    while !spinners.released.load(ordering: .acquiring) {} // as a huge hash keeps a core busy
                }
            }
        }
        try await waitUntil("every piece of file work running") { spinners.running.load(ordering: .relaxed) == count }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in DispatchQueue.global().async { done.resume() } }
        spinners.released.store(true, ordering: .releasing)
        for task in busy { await task.value }
    }
}
