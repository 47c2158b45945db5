#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// What the watcher reads of a saved file, as the supervisor's own metrics count it.
    @Suite struct WatchHashing {
        @Test func aSavedFileIsReadOnceByTheWatcherAndNotAgainByTheReload() async throws {
            let padding = String(repeating: "x", count: 4 << 20)
            let supervised = try await SupervisedFolder(options: []) { folder in
                folder.script("big", "# v1 \(padding)\nexec '\(BuildProducts.chaosPhoton)' serve big")
            }
            _ = try await supervised.startedPID("big")
            let before = try await hashedBytes(supervised)
            // Saved as editors save: a new file (hidden, so not a photon file of its own) renamed over the old one.
            let saved = supervised.photons.script(".big.new", "# v2 \(padding)\nexec '\(BuildProducts.chaosPhoton)' serve big")
            let big = Paths.join(supervised.photons.path, "big")
            #expect(rename(saved, big) == 0)
            try await waitUntil("big reloaded") {
                try await supervised.client("status", "--json", "big").json()[0]?["generation"] == 2
            }
            var info = stat()
            #expect(stat(big, &info) == 0)
            // Read once: by the watcher, whose digest the reload took.
            let read = try await hashedBytes(supervised) - before
            #expect(read == UInt64(info.st_size), "read \(read) bytes of a file of \(info.st_size)")
            try await supervised.stop()
        }

        private func hashedBytes(_ supervised: SupervisedFolder) async throws -> UInt64 {
            let line = try #require(try await supervised.client("metrics").output.first { $0.hasPrefix("luminal_hashed_bytes_total ") })
            return try #require(UInt64(line.dropFirst("luminal_hashed_bytes_total ".count)))
        }
    }
}
