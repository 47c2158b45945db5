import Glibc
import Testing
@testable import Luminal

extension Supervisor {
    /// `luminal run` on a folder that holds things a photon file cannot be: every one is named
    /// once with its reason, and none of them holds back the photons, status or shutdown.
    @Suite struct HostileFolder {
        @Test func aScanNeitherLoopsNorFindsAFileTwice() throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            folder.chaos("alpha")
            symlink("alpha", Paths.join(folder.path, "alias"))
            folder.chaos("deep/beta")
            symlink("..", Paths.join(folder.path, "deep/up"))
            symlink("..", Paths.join(folder.path, "deep/again"))
            let entries = try PhotonScan.scan(folder.path, recursive: true)
            #expect(entries.compactMap { if case .photonFile(let path) = $0 { Paths.name(path) } else { nil } } == ["alpha", "beta"])
            #expect(entries.compactMap { if case .skipped(let path, _) = $0 { Paths.name(path) } else { nil } }.sorted() == ["again", "alias", "up"])
        }

        @Test func linksToTheParentFolderNeitherLoopNorLoadAFileTwice() async throws {
            let supervised = try await SupervisedFolder(options: ["--recursive"]) { folder in
                folder.chaos("sub/alpha")
                symlink("..", Paths.join(folder.path, "sub/up"))
                symlink("..", Paths.join(folder.path, "sub/again"))
            }
            #expect(supervised.run.lines.filter { $0.contains("loaded alpha") }.count == 1)
            #expect(!supervised.run.lines.contains { $0.contains("sub/up/") || $0.contains("sub/again/") })
            let status = try await supervised.client("status")
            #expect(status.code == 0)
            #expect(status.output.contains { $0.contains("alpha") })
            try await supervised.stop()
        }
    }
}
