#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Synchronization
import Testing

extension Supervisor.Watch {
    /// A photon script whose bytes say which version it is.
    static func numbered(_ name: String, version: Int) -> String {
        "#!/bin/sh\n# \(name) version \(version)\nexec '\(BuildProducts.chaosPhoton)' serve \(name)\n"
    }

    /// Set once the callers of `calling` are to stop.
    final class Done: Sendable {
        private let flag = Atomic<Bool>(false)
        var isSet: Bool { flag.load(ordering: .relaxed) }
        func set() { flag.store(true, ordering: .relaxed) }
    }

    /// Calls each of `handlers` over and over while `body` runs; returns the calls that failed
    /// (the first of each caller).
    static func calling<T>(_ handlers: [Handler], during body: () async throws -> T) async throws -> (T, failures: [String]) {
        let done = Done()
        let callers = handlers.map { handler in
            Task { () -> [String] in
                var failures: [String] = []
                // A caller stops at its first failure: one is enough to fail the test.
                while !done.isSet && failures.isEmpty {
                    do {
                        _ = try await handler.call("echo", params: "steady")
                    } catch {
                        failures.append("\(handler.name): \(error)")
                    }
                }
                return failures
            }
        }
        let result: T
        do {
            result = try await body()
        } catch {
            done.set()
            for caller in callers { _ = await caller.value }
            throw error
        }
        done.set()
        var failures: [String] = []
        for caller in callers { failures += await caller.value }
        return (result, failures)
    }

    @Test(.serialized, arguments: backends)
    func aGitCheckoutOfFiftyChangedFilesReloadsEachOnceAndNoOther(backend: WatchBackend) async throws {
        let names = (0..<60).map { "p\($0)" }
        let changed = Set(names.prefix(50))
        try await withRig(backend, prepare: { folder in
            func git(_ arguments: String...) async throws {
                let run = try await run("git", ["-C", folder.path, "-c", "user.name=test", "-c", "user.email=test@localhost"] + arguments)
                #expect(run.code == 0, "git \(arguments): \(run.lines)")
            }
            for name in names { folder.write(name, Self.numbered(name, version: 1), mode: 0o755) }
            try await git("init", "-q", "-b", "one")
            try await git("add", "-A")
            try await git("commit", "-q", "-m", "one")
            try await git("checkout", "-q", "-b", "two")
            for name in changed { folder.write(name, Self.numbered(name, version: 2), mode: 0o755) }
            try await git("commit", "-q", "-a", "-m", "two")
            try await git("checkout", "-q", "one")
        }) { rig in
            let photons = await rig.loader.photons
            let watched = try ["p0", "p1", "p55", "p59"].map { try #require(photons[$0]) }
            let (_, failures) = try await Self.calling(watched) {
                let run = try await run("git", ["-C", rig.folder.path, "checkout", "-q", "two"])
                #expect(run.code == 0, "git checkout: \(run.lines)")
                try await rig.settle()
                try await rig.settle()
            }
            #expect(failures == [])
            #expect(rig.reloadedFiles.sorted() == changed.map { Paths.join(rig.folder.path, $0) }.sorted())
            #expect(rig.count("rolledBack") == 0)
            #expect(rig.count("stopped") == 0)
            for name in names {
                let handler = try #require(photons[name])
                #expect(handler.generation == (changed.contains(name) ? 2 : 1), "\(name)")
                #expect(handler.checksum == (try Self.checksum([Paths.join(rig.folder.path, name)])), "\(name)")
            }
        }
    }

    @Test(.serialized, arguments: backends)
    func touchingTwoHundredFilesReloadsOnlyTheTwentyRewritten(backend: WatchBackend) async throws {
        let names = (0..<200).map { "t\($0)" }
        let rewritten = Array(names.prefix(20))
        try await withRig(backend, prepare: { folder in
            for name in names { folder.write(name, Self.numbered(name, version: 1), mode: 0o755) }
        }) { rig in
            let photons = await rig.loader.photons
            let watched = try ["t0", "t150"].map { try #require(photons[$0]) }
            let (_, failures) = try await Self.calling(watched) {
                for name in rewritten { rig.folder.write(name, Self.numbered(name, version: 2), mode: 0o755) }
                let run = try await run("touch", names.map { Paths.join(rig.folder.path, $0) })
                #expect(run.code == 0, "touch: \(run.lines)")
                try await rig.settle()
                try await rig.settle()
            }
            #expect(failures == [])
            #expect(rig.reloadedFiles.sorted() == rewritten.map { Paths.join(rig.folder.path, $0) }.sorted())
            for name in names {
                #expect(photons[name]?.generation == (rewritten.contains(name) ? 2 : 1), "\(name)")
            }
        }
    }
}
