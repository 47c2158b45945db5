import Glibc
import Testing
@testable import Luminal

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
}
