import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// The process rules of Sources/Luminal/ARCHITECTURE.md §4 (and PROTOCOL.md §1), checked on real workers.
    @Suite struct ProcessRules {
        func inspect(_ loader: Loader, _ folder: PhotonFolder) async throws -> [String: JSONValue] {
            let handler = try #require(try await loader.loadPhoton(at: folder.chaos("probe")).first)
            try await handler.start()
            return try #require(try await handler.call("inspect").objectValue)
        }

        func statusField(_ status: String, _ name: String) -> String? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .map { $0.dropFirst(name.count + 1).trimmingPrefix(while: \.isWhitespace) }.map(String.init)
        }

        @Test func workerStartsWithAnEmptySignalMaskAndDefaultDispositions() async throws {
            try await withLoader { loader, folder in
                let status = try #require(try await inspect(loader, folder)["status"]?.stringValue)
                #expect(statusField(status, "SigBlk") == "0000000000000000")
                // Signals 1–31 (SIGPIPE, bit 13, included) are at their defaults. glibc's posix_spawn
                // itself leaves its two internal real-time signals (32, 33) ignored; the new
                // program's C library installs its own handlers for them.
                let ignored = UInt64(try #require(statusField(status, "SigIgn")), radix: 16)
                #expect(ignored.map { $0 & 0x7FFF_FFFF } == 0) // bit n-1 is signal n
            }
        }

        @Test func workerSeesOnlyFileDescriptorsZeroToFour() async throws {
            try await withLoader { loader, folder in
                let fds = try #require(try await inspect(loader, folder)["fds"]?.arrayValue)
                #expect(fds == [0, 1, 2, 3, 4])
            }
        }

        @Test func workerHasItsOwnProcessGroup() async throws {
            try await withLoader { loader, folder in
                let facts = try await inspect(loader, folder)
                #expect(facts["pgid"] == facts["pid"])
                #expect(facts["pgid"]?.intValue != Int64(getpgrp()))
            }
        }

        @Test(.serialized, arguments: ["plain", "setsid", "daemon"])
        func unloadLeavesNoDescendantBehind(kind: String) async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("parent")).first)
                try await handler.start()
                let reply = switch kind {
                case "daemon": try await handler.call("spawn-daemon")
                default: try await handler.call("spawn-child", params: ["setsid": .bool(kind == "setsid")])
                }
                let descendant = pid_t(try #require(reply.intValue))
                #expect(descendant > 0)
                #expect(isAlive(descendant))
                if kind == "daemon" {
                    #expect(Procfs.stat(descendant)?.ppid == getpid()) // re-parented to the subreaper
                }
                let outcome = try await loader.unloadPhoton(handler)
                #expect(outcome.ending == .clean)
                #expect(!exists(descendant))
            }
        }

        @Test func loadUnloadCyclesLeaveNoDescriptorOrChildBehind() async throws {
            try await withLoader { loader, folder in
                let path = folder.chaos("cycler")
                _ = try await loader.loadPhoton(at: path)
                try await loader.unloadPhoton(path)
                let pipes = supervisorPipeCount(), children = Procfs.childPIDs(of: getpid()).count
                for round in 0..<200 {
                    let handler = try #require(try await loader.loadPhoton(at: path).first)
                    if round % 2 == 0 { try await handler.start() }
                    try await loader.unloadPhoton(handler, forceStop: round % 4 == 1)
                }
                #expect(supervisorPipeCount() == pipes, "\(supervisorPipes())")
                #expect(Procfs.childPIDs(of: getpid()).count == children)
            }
        }

        @Test func workerExitsWhenFdThreeReachesEndOfFile() async throws {
            let spawned = try Spawner.spawn(SpawnRequest(executable: BuildProducts.chaosPhoton, arguments: ["serve", "orphan"],
                                                         environment: [:], workingDirectory: "/"))
            let process = ChildProcess(pid: spawned.pid, pidfd: spawned.pidfd, queue: DispatchQueue(label: "eof-test"))
            defer { [spawned.fromWorker, spawned.stdout, spawned.stderr].forEach(closeQuietly) }
            closeQuietly(spawned.toWorker)
            let status = await process.waitForExit(timeout: testDeadline)
            #expect(status == .exited(code: 0))
        }
    }
}

/// Pipes and pidfds the test process holds: what a leaking supervisor would accumulate.
func supervisorPipeCount() -> Int {
    supervisorPipes().count
}

/// The pipes and pidfds the test process holds, as "fd → target".
func supervisorPipes() -> [String] {
    (Paths.entries(of: "/proc/self/fd") ?? []).compactMap { name in
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/self/fd/\(name)", &buffer, buffer.count - 1)
        let target = String(decoding: buffer.prefix(max(0, n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.hasPrefix("pipe:") || target.contains("pidfd") ? "\(name) → \(target)" : nil
    }
}
