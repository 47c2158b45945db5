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

        @Test func aHugeFileHoldsBackNeitherTheOthersNorStatusNorShutdown() async throws {
            let supervised = try await SupervisedFolder(options: []) { folder in
                folder.chaos("alpha")
                // Sparse: 64 GiB of holes, far more than could be hashed before the deadline.
                #expect(truncate(folder.write("huge", "", mode: 0o755), 64 << 30) == 0)
            }
            let status = try await supervised.client("status", "alpha")
            #expect(status.code == 0)
            #expect(status.output.contains { $0.contains("alpha") && $0.contains("started") })
            try await supervised.stop()
        }

        @Test func photonsThatNeverSayHelloDoNotHoldBackTheOthersWhenWatchingBegins() async throws {
            try await withLoader { loader, folder in
                for name in ["a-silent", "b-silent"] {
                    folder.write("\(name)/photon.json", #"{"exec": "run", "args": ["no-hello", "\#(name)"], "timeouts": {"handshake": 3600}}"#)
                    folder.script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                }
                folder.chaos("c-alpha", photon: "alpha")
                let events = EventLog(loader)
                let watching = Task {
                    try await loader.makeWatcher(in: folder.path, selection: PhotonSelection(base: "IPhoton", otherClasses: []), recursive: false,
                                                 backend: .inotify, clock: ManualWatchClock(), quietPeriod: .milliseconds(150))
                }
                _ = try await events.first("alpha started") { event in
                    if case .started("alpha", _) = event { return true }
                    return nil
                }
                await loader.unloadAll(forceStop: true) // abandons the two loads still waiting for a hello
                _ = try? await watching.value
                await loader.stopWatchingPhotons()
            }
        }
    }
}
