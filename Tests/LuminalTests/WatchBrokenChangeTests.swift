#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor.Watch {
    /// How a loaded package is broken by a save.
    enum Breakage: String, CaseIterable, Sendable {
        /// A key the manifest does not know (`restrat`).
        case typoedKey
        /// A trailing comma.
        case trailingComma
        /// The manifest cut short.
        case cutShort
        /// A value of the wrong type.
        case wrongType
        /// The manifest replaced by a folder.
        case notARegularFile

        func save(to manifest: String, in folder: PhotonFolder) {
            let good = #"{"exec": "run", "args": ["serve", "pkg"]"#
            let name = Paths.name(Paths.parent(manifest)) + "/photon.json"
            switch self {
            case .typoedKey: folder.write(name, good + #", "restrat": "always"}"#)
            case .trailingComma: folder.write(name, good + ",}")
            case .cutShort: folder.write(name, String(good.prefix(20)))
            case .wrongType: folder.write(name, #"{"exec": "run", "args": "serve pkg"}"#)
            case .notARegularFile:
                unlink(manifest)
                mkdir(manifest, 0o755)
            }
        }

        /// What the error must name.
        var named: String {
            switch self {
            case .typoedKey: "'restrat'"
            case .wrongType: "'args'"
            case .notARegularFile: "photon.json"
            case .trailingComma, .cutShort: "photon.json"
            }
        }
    }

    @Test(.serialized, arguments: [WatchBackend.inotify], Breakage.allCases)
    func aChangeThatBreaksALoadedPackageIsAFailedReloadAndTheOldOneKeepsServing(backend: WatchBackend, breakage: Breakage) async throws {
        try await withRig(backend, prepare: { folder in
            folder.write("pkg/photon.json", #"{"exec": "run", "args": ["serve", "pkg"]}"#)
            folder.script("pkg/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
        }) { rig in
            let pkg = try #require(await rig.loader.photons["pkg"])
            #expect(pkg.state == .started)
            let manifest = Paths.join(rig.folder.path, "pkg/photon.json")
            breakage.save(to: manifest, in: rig.folder)
            try await rig.settle()
            try await rig.settle()
            let reason = try await rig.events.first("the broken package's reload rolled back") { event in
                if case .reloadRolledBack(let file, .resolve, let reason) = event, file.hasSuffix("/pkg") { reason } else { nil }
            }
            #expect(reason.contains(breakage.named), "\(reason)")
            #expect(rig.count("stopped") == 0)
            #expect(pkg.state == .started)
            #expect(pkg.generation == 1)
            #expect(try await pkg.call("echo", params: "still") == "still")
            let failure = try #require(pkg.snapshot.reloadFailure)
            #expect(failure.step == .resolve && failure.reason == reason && failure.failures == 1)
            #expect(pkg.statusJSON["reloadFailure"]?["reason"]?.stringValue == reason)

            // Fixed: the next save reloads it, and the failure is gone.
            if breakage == .notARegularFile { rmdir(manifest) }
            rig.folder.write("pkg/photon.json", #"{"exec": "run", "args": ["serve", "pkg"], "env": {"V": "2"}}"#)
            try await rig.settle()
            try await rig.settle()
            #expect(rig.count("reloaded") == 1)
            #expect(pkg.generation == 2 && pkg.state == .started)
            #expect(pkg.snapshot.reloadFailure == nil)
            #expect(pkg.statusJSON["reloadFailure"] == .null)
        }
    }

    @Test(.serialized, arguments: backends)
    func onlyARemovalUnloadsAWatchedFile(backend: WatchBackend) async throws {
        try await withRig(backend) { rig in
            chmod(rig.alpha, 0o644)
            try await rig.settle()
            try await rig.settle()
            #expect(rig.count("stopped") == 0)
            #expect(rig.count("rolledBack") == 1)
            #expect(await rig.loader.photons["alpha"]?.state == .started)
            unlink(rig.alpha)
            try await rig.settle()
            try await rig.settle()
            #expect(rig.count("stopped") == 1)
            #expect(await rig.loader.photons["alpha"] == nil)
        }
    }
}
