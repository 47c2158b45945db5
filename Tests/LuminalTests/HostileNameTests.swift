#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// A photon file's name holds every character that can break an output format; each output
    /// escapes it for its own format, and the rest of the output stands. (A photon's own name
    /// cannot: the hello refuses any but `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.)
    @Suite struct HostileNames {
        /// A file name may hold any byte but NUL and `/`.
        static let fileName = "f-\r-\n-\r\n-\u{1B}[31m-\u{85}-\u{9B}-\u{2028}-\"-\\"
        /// The photon in it.
        static let photonName = "named"

        /// Whether `line` holds a character that could drive a terminal or break a line.
        static func raw(_ line: String) -> Bool {
            line.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" }
        }

        @Test func everyOutputEscapesThemForItsFormat() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { folder in
                folder.chaos("bystander")
                folder.python(Self.fileName, #"""
                photon = Photon('named')
                @photon.method()
                def shout(params, ctx):
                    print("shouted")
                run(photon)
                """#)
            }
            let file = Paths.join(supervisor.photons.path, Self.fileName)
            let port = try await supervisor.metricsPort()

            // Prometheus reads the exposition line by line, byte by byte: every line still parses.
            let scraped = try Exposition(try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").body)
            #expect(scraped.value("luminal_photon_up", ["photon": Self.photonName]) == 1)
            #expect(scraped.value("luminal_photon_info", ["photon": Self.photonName, "file": file]) == 1)
            #expect(scraped.value("luminal_file_processes", ["file": file]) ?? 0 >= 1)
            #expect(scraped.value("luminal_photon_up", ["photon": "bystander"]) == 1)
            // `luminal metrics` into a pipe is the exact exposition.
            let piped = try await supervisor.client("metrics")
            #expect(try Exposition(piped.output.joined(separator: "\n") + "\n").value("luminal_photon_up", ["photon": Self.photonName]) == 1)

            // JSON carries the exact names.
            let status = try await supervisor.client("status", "--json").json()
            #expect(status.arrayValue?.contains { $0["name"]?.stringValue == Self.photonName && $0["file"]?.stringValue == file } == true, "\(status)")
            // Tables, log lines and the console show them escaped, one line each.
            let table = try await supervisor.client("status")
            #expect(table.output.count == 3 && !table.output.contains(where: Self.raw), "\(table.output)")
            #expect(table.output.contains { $0.contains(#"f-\x0d-\x0a-\x0d\x0a-\x1b[31m-\x85-\x9b-\u2028-"-\"#) }, "\(table.output)")
            #expect(try await supervisor.client("call", Self.photonName, "shout").code == 0)
            let logs = try await supervisor.client("logs", Self.photonName)
            let shouted = logs.output.filter { $0.contains("shouted") }
            #expect(shouted.count == 1 && !shouted.contains(where: Self.raw), "\(logs.output)")
            let console = try await supervisor.run.line { $0.contains("shouted") }
            #expect(!Self.raw(console), "\(console)")

            // On a terminal, `luminal metrics` and `luminal top` show them escaped.
            let luminal = Paths.join(BuildProducts.directory, "luminal")
            let metrics = try await TmuxSession("'\(luminal)' metrics --control '\(supervisor.control)'; cat", columns: 200, rows: 120)
            let screen = try await metrics.screen(escapes: true) { $0.contains { $0.hasPrefix("process_open_fds") } }
            #expect(screen.joined().contains(#"\x1b[31m-\x85-\x9b-\u2028"#), "\(screen.suffix(20))")
            #expect(!screen.joined().contains("\u{1B}[31m"), "an escape sequence reached the terminal")
            let top = try await TmuxSession("NO_COLOR=1 '\(luminal)' top --control '\(supervisor.control)'", columns: 200, rows: 12)
            let rows = try await top.screen(escapes: true) { $0.contains { $0.hasPrefix("named ") && $0.contains("started") } }
            #expect(!rows.joined().contains("\u{1B}[31m"), "an escape sequence reached the terminal")
            try await top.send("q")
            try await supervisor.stop()
        }

        /// A line break in a file name that lands in the supervisor's own messages (a failed load
        /// names the file) starts an indented continuation, never a line that passes for a record.
        @Test func aLineBreakInAFileNameForgesNoLogRecord() async throws {
            let forged = "luminal: error: FORGED"
            let logs = PhotonFolder()
            defer { logs.remove() }
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs.path]) { folder in
                folder.chaos("bystander")
                folder.script("p\n\(forged)", "exit 3")
            }
            #expect(LogText.indentingContinuations("a\nb\r\nc\rd") == "a\n    b\n    c\n    d")
            func forges(_ lines: [String]) -> Bool { lines.contains { $0.hasPrefix(forged) || $0.contains("Z \(forged)") } }
            let console = try await supervisor.run.line { $0.contains(forged) }
            #expect(console.hasPrefix(LogText.continuation), "\(console)")
            let shown = try await supervisor.client("logs", "-n", "100")
            #expect(shown.output.contains { $0.contains(forged) } && !forges(shown.output), "\(shown.output)")
            try await supervisor.stop()
            let written = String(decoding: try Paths.read(Paths.join(logs.path, "luminal.log")), as: UTF8.self)
            let lines = written.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.contains(forged) } && !forges(lines), "\(lines)")
            #expect(!forges(supervisor.run.lines), "\(supervisor.run.lines)")
        }
    }
}
