#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor.Watch {
    /// A save that gives its file new bytes under the same name.
    enum Save: String, CaseIterable, Sendable {
        /// Write a temp file, rename it over the original.
        case rename
        /// Truncate, write and close the file in place.
        case writeAndClose
    }

    @Test(.serialized, arguments: backends, Save.allCases)
    func aFinishedSaveIsActedOnWithoutTheQuietPeriodOnlyByInotify(backend: WatchBackend, save: Save) async throws {
        try await withRig(backend) { rig in
            switch save {
            case .rename:
                rig.folder.write("alpha.tmp", alphaScript("v2"), mode: 0o755)
                rename(Paths.join(rig.folder.path, "alpha.tmp"), rig.alpha)
            case .writeAndClose:
                rig.folder.write("alpha", alphaScript("v2"), mode: 0o755)
            }
            try await rig.look()
            if case .inotify = backend {
                #expect(rig.count("reloaded") == 1)
            } else {
                // Polling sees metadata, which cannot tell a finished save: it waits.
                #expect(rig.count("reloaded") == 0)
                try await rig.settle()
                #expect(rig.count("reloaded") == 1)
            }
            try await rig.settle()
            #expect(rig.count("reloaded") == 1)
        }
    }

    @Test(.serialized, arguments: backends, [true, false])
    func aJetBrainsSafeWriteReloadsOnceOrNotAtAll(backend: WatchBackend, changed: Bool) async throws {
        try await withRig(backend, prepare: { $0.write("alpha", alphaScript("v1"), mode: 0o755) }) { rig in
            let temp = rig.alpha + "___jb_tmp___", old = rig.alpha + "___jb_old___"
            // The watcher looks between every step, the worst case for a save in four steps.
            rig.folder.write(Paths.name(temp), alphaScript(changed ? "v2" : "v1"), mode: 0o755)
            try await rig.look()
            rename(rig.alpha, old)
            try await rig.look()
            rename(temp, rig.alpha)
            try await rig.look()
            unlink(old)
            try await rig.settle()
            try await rig.settle()
            #expect(rig.count("reloaded") == (changed ? 1 : 0))
            #expect(rig.count("stopped") == 0)
            #expect(rig.count("loaded") == 1)
            #expect(await rig.loader.photons["alpha"]?.checksum == (try Self.checksum([rig.alpha])))
        }
    }

    @Test(.serialized, arguments: backends, ["yes", "no"])
    func vimSavesReloadOnceAndAnUnchangedSaveNotAtAll(backend: WatchBackend, backupcopy: String) async throws {
        try await withRig(backend, prepare: { $0.write("alpha", alphaScript("v1"), mode: 0o755) }) { rig in
            func vim(_ commands: String...) async throws {
                let options = "set backupskip= backupcopy=\(backupcopy) writebackup nobackup"
                let run = try await run("vim", ["-u", "NONE", "-i", "NONE", "-N", "-n", "-es", "-c", options]
                    + commands.flatMap { ["-c", $0] } + [rig.alpha])
                #expect(run.code == 0, "vim: \(run.lines)")
            }
            try await vim("wq")
            try await rig.settle()
            #expect(rig.count("reloaded") == 0)
            try await vim("%s/v1/v2/", "wq")
            try await rig.settle()
            try await rig.settle()
            #expect(rig.count("reloaded") == 1)
            #expect(rig.count("stopped") == 0)
            #expect(await rig.loader.photons["alpha"]?.checksum == (try Self.checksum([rig.alpha])))
            #expect(try Paths.read(rig.alpha) == Array(alphaScript("v2").utf8))
        }
    }

    @Test(.serialized, arguments: backends)
    func aRunningBinaryIsReplacedByInstallOrByWriteAndRenameAndReloadsOnceEach(backend: WatchBackend) async throws {
        let builds = PhotonFolder()
        defer { builds.remove() }
        let original = try Paths.read(BuildProducts.chaosPhoton)
        let next = [1, 2].map { build in
            let path = Paths.join(builds.path, "build-\(build)")
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o755)
            (original + Array("\nbuild \(build)\n".utf8)).withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
            return path
        }
        try await withRig(backend, prepare: { folder in
            _ = try await run("install", ["-m", "755", BuildProducts.chaosPhoton, Paths.join(folder.path, "binary")])
        }) { rig in
            let binary = Paths.join(rig.folder.path, "binary")
            let photon = try #require(await rig.loader.photons["chaos"])
            // Writing over a binary that runs is refused by the kernel.
            let copy = try await run("cp", [next[0], binary])
            #expect(copy.code != 0)
            #expect(copy.lines.contains { $0.contains("Text file busy") })
            #expect(try await run("install", ["-m", "755", next[0], binary]).code == 0)
            try await rig.settle()
            #expect(photon.generation == 2)
            #expect(try await run("cp", [next[1], binary + ".tmp"]).code == 0)
            #expect(try await run("mv", [binary + ".tmp", binary]).code == 0)
            try await rig.settle()
            try await rig.settle()
            #expect(photon.generation == 3)
            #expect(rig.count("reloaded") == 2)
            #expect(photon.checksum == (try Self.checksum([binary])))
            #expect(try await photon.call("echo", params: "new build") == "new build")
        }
    }
}
