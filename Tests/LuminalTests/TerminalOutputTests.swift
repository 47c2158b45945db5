@testable import Luminal
import LuminalWire
import Testing

extension Supervisor {
    /// Worker-supplied text reaches the operator's terminal with its control characters escaped;
    /// `--json` output stays exact.
    @Suite struct TerminalOutput {
        /// Window title, clear screen, NUL, DEL, a C1 control (CSI) and a tab, as JSON text.
        static let hostile = #"title \u001b]0;owned\u0007 clear \u001b[2J nul \u0000 del \u007f csi \u009b tab\tend"#
        static let escaped = #"title \x1b]0;owned\x07 clear \x1b[2J nul \x00 del \x7f csi \x9b tab"# + "\tend"
        static let exact = "title \u{1B}]0;owned\u{07} clear \u{1B}[2J nul \u{00} del \u{7F} csi \u{9B} tab\tend"

        @Test func logsRunOutputCallResultsAndStatusEscapeControlCharacters() async throws {
            let file = "e\u{1B}]0;x\u{07}vil"
            let supervisor = try await SupervisedFolder { $0.chaos(file, photon: "evil") }
            #expect(try await supervisor.client("call", "evil", "print", #"{"text": "\#(Self.hostile)"}"#).code == 0)
            try await supervisor.run.line { $0.contains("[evil] title") }
            #expect(supervisor.run.lines.contains("[evil] \(Self.escaped)"))

            let logs = try await supervisor.client("logs").output
            #expect(logs.contains { $0.hasSuffix("[evil] \(Self.escaped)") })
            #expect(logs.allSatisfy { line in !line.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" || (0x7F...0x9F).contains($0.value) } })
            let json = try await supervisor.client("logs", "--json").output.map { try JSONValue.parse($0) }
            #expect(json.contains { $0["message"] == .string(Self.exact) })

            let result = try await supervisor.client("call", "evil", "echo", "\"\(Self.hostile)\"")
            #expect(result.output == [Self.escaped])
            #expect(try await supervisor.client("call", "evil", "echo", "\"\(Self.hostile)\"", "--json").json() == .string(Self.exact))

            let table = try await supervisor.client("status").output
            #expect(table.count == 2 && table[1].hasSuffix(#"e\x1b]0;x\x07vil"#))
            try await supervisor.stop()
        }
    }
}
