#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// `luminal top` in a real terminal (tmux): it shows every photon, sorts by a key, quits on `q`.
    @Suite struct Top {
        @Test func topShowsThePhotonsAndTheFailedFilesSortsByAKeyAndQuits() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second"); $0.write("broken/photon.json", "{") }
            let exitFile = Paths.join(supervisor.scratch.path, "top-exit")
            let luminal = Paths.join(BuildProducts.directory, "luminal")
            let session = try await TmuxSession("NO_COLOR=1 '\(luminal)' top --control '\(supervisor.control)'; echo $? > '\(exitFile)'", columns: 100, rows: 12)
            try await session.screen { screen in
                screen.contains { $0.hasPrefix("NAME ") && $0.contains("CALLS/S") && $0.contains("P99") && $0.contains("MEMORY") }
                    && screen.contains { $0.hasPrefix("first ") && $0.contains("started") }
                    && screen.contains { $0.hasPrefix("second ") && $0.contains("started") }
                    && screen.contains { $0.hasPrefix("broken ") && $0.contains("failed") }
            }
            // Sorted by calls a second, the photon being called comes first once a refresh counts its calls.
            try await session.send("t")
            try await waitUntil("second first by calls/s") {
                _ = try await supervisor.client("call", "second", "echo", "1")
                let screen = try await session.screen()
                let rows = screen.filter { $0.hasPrefix("first ") || $0.hasPrefix("second ") }
                return screen.first?.contains("sorted by calls/s") == true && rows.first?.hasPrefix("second ") == true
                    && !(rows.first?.contains("  -  ") ?? true)
            }
            let plain = try await session.screen(escapes: true)
            #expect(!plain.joined().contains("\u{1B}[32m"), "NO_COLOR is set, yet: \(plain)")
            try await session.send("q")
            try await waitUntil("top to exit") { (try? Paths.read(exitFile)).map { String(decoding: $0, as: UTF8.self) == "0\n" } ?? false }
            try await supervisor.stop()
        }

        @Test func topIsColouredSizedToTheTerminalAndExitsWhenTheSupervisorGoes() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let exitFile = Paths.join(supervisor.scratch.path, "top-exit")
            let luminal = Paths.join(BuildProducts.directory, "luminal")
            let session = try await TmuxSession("env -u NO_COLOR '\(luminal)' top --sort memory --control '\(supervisor.control)'; echo $? > '\(exitFile)'",
                                                columns: 40, rows: 6)
            let screen = try await session.screen(escapes: true) { $0.contains { $0.contains("first") && $0.contains("\u{1B}[32m") } }
            #expect(screen.first?.contains("sorted by memory") == true)
            let text = try await session.screen()
            #expect(text.allSatisfy { $0.count <= 40 }, "\(text)")
            try await supervisor.stop()
            try await waitUntil("top to exit") { (try? Paths.read(exitFile)).map { String(decoding: $0, as: UTF8.self) == "76\n" } ?? false }
        }

        @Test func withoutATerminalTopSaysSoAndExitsSixtyFour() async throws {
            let run = try CommandProcess(["top", "--control", "/nonexistent.sock"])
            #expect(try await run.finish() == .exited(code: 64))
            #expect(run.lines.contains { $0.contains("needs a terminal") })
        }
    }
}
