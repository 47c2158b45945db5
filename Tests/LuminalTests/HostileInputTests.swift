#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// Hostile files, folders, workers and control clients, one row each (`HostileCase.all`),
    /// against a real `luminal run` watching its folder. Whatever the row does, the supervisor
    /// stays up and answers `status`, the bystander photon keeps its pid and answers, a photon
    /// file added afterwards is loaded and started, the supervisor's memory grows by less than
    /// `HostileCase.memoryAllowance`, and SIGTERM stops it with exit 0.
    @Suite struct HostileInput {
        @Test(.serialized, arguments: HostileCase.all)
        func supervisorStaysUpAnsweringAndBounded(_ hostile: HostileCase) async throws {
            let supervisor = try await SupervisedFolder(options: ["--stop-timeout", "1", "--kill-timeout", "1"] + hostile.options,
                                                        awaitingStartup: false) { folder in
                folder.chaos("bystander")
                hostile.prepare(folder)
            }
            let bystander = try await supervisor.startedPID("bystander")
            let before = try #require(residentBytes(of: supervisor.run.process.pid))
            try await hostile.act(supervisor)
            #expect(try await supervisor.client("status").code == 0)
            #expect(try await supervisor.client("call", "bystander", "echo", "7").output == ["7"])
            #expect(try await supervisor.startedPID("bystander") == bystander)
            supervisor.photons.chaos("latecomer")
            _ = try await supervisor.startedPID("latecomer")
            let grown = (residentBytes(of: supervisor.run.process.pid) ?? .max) - before
            #expect(grown < HostileCase.memoryAllowance, "the supervisor grew by \(grown / 1_048_576) MiB")
            try await supervisor.stop()
        }
    }
}

/// One hostile input: what is in the folder when `luminal run` starts, and what is done to it
/// once the bystander serves (each row checks what is particular to it there).
struct HostileCase: Sendable, CustomTestStringConvertible {
    /// How much the supervisor's resident memory may grow over a row: 96 MiB. The bounded
    /// buffers one row can fill add up to 52 MiB (the log book's 16 MiB of text, 16 MiB of log
    /// records waiting, one client's 16 MiB of unread replies, the 4 MiB of events kept); the
    /// rest is the allocator's own overhead.
    static let memoryAllowance = memoryBound(mebibytes: 96)

    /// What the hostile input is.
    let what: String
    /// Options added to `luminal run`.
    let options: [String]
    /// Writes into the photon folder before the supervisor starts.
    let prepare: @Sendable (PhotonFolder) -> Void
    /// Runs against the started supervisor.
    let act: @Sendable (SupervisedFolder) async throws -> Void

    init(_ what: String, options: [String] = [], prepare: @escaping @Sendable (PhotonFolder) -> Void = { _ in },
         act: @escaping @Sendable (SupervisedFolder) async throws -> Void) {
        self.what = what
        self.options = options
        self.prepare = prepare
        self.act = act
    }

    var testDescription: String { what }
}

/// The resident memory of `pid`, from /proc/PID/status.
func residentBytes(of pid: pid_t) -> Int? {
    guard let text = try? Paths.read("/proc/\(pid)/status", limit: 64 * 1024) else { return nil }
    let line = String(decoding: text, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
    return line?.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
}
