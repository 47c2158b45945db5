#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Testing

extension Supervisor.Watch {
    /// What the watcher remembers of files and folders goes when they do, so churn in the
    /// folder cannot grow it.
    @Test(.serialized, arguments: backends)
    func aDeletedBrokenFileIsForgotten(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            for round in 0..<3 {
                let broken = Paths.join(rig.folder.path, "broken-\(round)")
                rig.folder.write("broken-\(round)/photon.json", #"{"exec": "run", "restrat": "always"}"#)
                try await rig.settle()
                #expect(await rig.loader.failedFiles.map(\.path) == [broken])
                #expect(await rig.loader.failedVersion(of: broken) != nil)
                rig.folder.remove(broken)
                try await rig.settle()
                #expect(await rig.loader.failedFiles.isEmpty)
                #expect(await rig.loader.failedVersion(of: broken) == nil)
            }
        }
    }

    @Test func inotifyForgetsTheWatchOfADeletedFolder() throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        let source = try InotifySource(root: folder.path, recursive: true)
        defer { source.close() }
        let before = source.watchedFolders
        for round in 0..<3 {
            let sub = Paths.join(folder.path, "sub-\(round)")
            #expect(mkdir(sub, 0o755) == 0)
            _ = source.changes()
            #expect(source.watchedFolders == before + 1)
            #expect(rmdir(sub) == 0)
            _ = source.changes()
            #expect(source.watchedFolders == before)
        }
    }
}
