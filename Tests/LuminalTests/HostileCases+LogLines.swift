#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension HostileCase {
    /// Photon output that the log path must carry unchanged.
    static let logLines: [HostileCase] = [
        HostileCase("a 64 KiB line whose last piece boundary falls inside a 4-byte character") { supervisor in
            let text = String(repeating: "a", count: OutputCapture.maxLineLength - 2) + "😀tail"
            #expect(try await supervisor.client("call", "bystander", "print", JSONValue.object(["text": .string(text)]).description).code == 0)
            try await waitUntil("the line's last piece in the log book") {
                try await supervisor.client("logs", "bystander").output.contains { $0.hasSuffix("[bystander] 😀tail") }
            }
            #expect(try await !supervisor.client("logs", "bystander").output.contains { $0.contains("\u{FFFD}") })
        },
    ]
}
