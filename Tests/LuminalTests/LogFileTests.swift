#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// `luminal run --log-dir`: one file per photon file and one for the supervisor, rotated by
    /// size without losing or splitting a line; a folder, file or disk that refuses is reported once.
    @Suite struct LogFilesOnDisk {
        @Test func rotationKeepsEveryLineWholeAndInOrder() async throws {
            let logs = PhotonFolder()
            defer { logs.remove() }
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs.path, "--log-max-bytes", "1024", "--log-keep", "1000"]) {
                $0.chaos("first")
            }
            #expect(try await supervisor.client("call", "first", "lines", #"{"count": 2000}"#).code == 0)
            var numbers: [Int] = []
            try await waitUntil("2,000 lines in the log files") {
                numbers = Self.lines(in: logs.path, "first").compactMap { line in
                    line.split(separator: "] line ").last.flatMap { Int($0) }
                }
                return numbers.count >= 2000
            }
            #expect(numbers == Array(0..<2000))
            // Each line begins with its UTC time to the millisecond, then the photon's tag.
            for line in Self.lines(in: logs.path, "first") {
                let parts = line.split(separator: " ", maxSplits: 1)
                #expect(parts.count == 2 && Self.isTimestamp(parts[0]) && parts[1].hasPrefix("[first] "), "\(line)")
            }
            let names = Paths.entries(of: logs.path) ?? []
            #expect(names.contains("luminal.log"))
            #expect(names.filter { $0.hasPrefix("first.log.") }.count > 10)
            for name in names where name.hasPrefix("first.log") {
                let bytes = try Paths.read(Paths.join(logs.path, name))
                #expect(bytes.count <= 1024 && bytes.last == UInt8(ascii: "\n"), "\(name)")
            }
            try await supervisor.stop()
        }

        /// Whether `text` is a timestamp as text log lines begin: `2026-12-01T15:07:25.123Z`.
        private static func isTimestamp(_ text: Substring) -> Bool {
            let pattern = Array("dddd-dd-ddTdd:dd:dd.dddZ")
            return text.count == pattern.count && zip(text, pattern).allSatisfy { character, expected in
                expected == "d" ? ("0"..."9").contains(character) : character == expected
            }
        }

        @Test func onlyTheNewestFilesAreKeptAndJSONLinesParse() async throws {
            let logs = PhotonFolder()
            defer { logs.remove() }
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs.path, "--log-format", "json",
                                                                  "--log-max-bytes", "4096", "--log-keep", "2"]) { $0.chaos("first") }
            #expect(try await supervisor.client("call", "first", "lines", #"{"count": 1000}"#).code == 0)
            try await waitUntil("the last line in first.log") {
                (try? Paths.read(Paths.join(logs.path, "first.log"))).map { String(decoding: $0, as: UTF8.self).contains("line 999\"") } ?? false
            }
            #expect(Set(Paths.entries(of: logs.path) ?? []).isSuperset(of: ["first.log", "first.log.1", "first.log.2"]))
            #expect(!(Paths.entries(of: logs.path) ?? []).contains("first.log.3"))
            for line in Self.lines(in: logs.path, "first") {
                let object = try JSONValue.parse(line)
                #expect(object["photon"] == "first" && object["stream"] == "stdout" && object["time"]?.doubleValue != nil
                        && object["file"] == .string(Paths.join(supervisor.photons.path, "first")), "\(line)")
            }
            let own = try JSONValue.parse(try #require(Self.lines(in: logs.path, "luminal").first))
            #expect(own["stream"] == "luminal" && own["level"] == "info" && own["photon"] == .null)
            try await supervisor.stop()
        }

        @Test func aRefusedFileIsReportedOnceItsLinesCountedAndBlocksNothing() async throws {
            let logs = PhotonFolder()
            defer { logs.remove() }
            #expect(symlink("/dev/full", Paths.join(logs.path, "first.log")) == 0)
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs.path]) { $0.chaos("first") }
            for _ in 0..<3 {
                #expect(try await supervisor.client("call", "first", "lines", #"{"count": 100}"#).code == 0)
            }
            try await supervisor.run.line { $0.contains("cannot write the log file \(Paths.join(logs.path, "first.log"))") && $0.contains("a symlink") }
            try await waitUntil("the dropped lines counted") {
                let metrics = try Exposition(try await supervisor.client("metrics").output.joined(separator: "\n") + "\n")
                return metrics.value("luminal_log_file_lines_dropped_total") ?? 0 >= 300
            }
            #expect(try await supervisor.client("call", "first", "echo", "1").output == ["1"])
            #expect(supervisor.run.lines.filter { $0.contains("cannot write the log file") }.count == 1)
            try await supervisor.stop()
        }

        @Test func aFolderReplacedByAFileIsReportedOnceAndWritingResumesWhenItIsBack() async throws {
            let scratch = PhotonFolder()
            defer { scratch.remove() }
            let logs = Paths.join(scratch.path, "logs")
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs]) { $0.chaos("first") }
            #expect(try await supervisor.client("call", "first", "print", #"{"text": "before"}"#).code == 0)
            try await waitUntil("the first line written") { Self.lines(in: logs, "first").contains { $0.hasSuffix("[first] before") } }
            // A plain file where the folder was: neither it nor its files can be made.
            let file = scratch.write("not-a-folder", "not a folder")
            scratch.remove(logs)
            #expect(rename(file, logs) == 0)
            try await waitUntil("the folder reported") {
                _ = try await supervisor.client("call", "first", "lines", #"{"count": 10}"#)
                return supervisor.run.lines.contains { $0.contains("cannot write the log files in \(logs)") }
            }
            #expect(try await supervisor.client("status", "first").code == 0)
            #expect(unlink(logs) == 0)
            try await waitUntil("writing again") {
                _ = try await supervisor.client("call", "first", "print", #"{"text": "after"}"#)
                return supervisor.run.lines.contains { $0.contains("writing the log files in \(logs) again") }
            }
            #expect(Self.lines(in: logs, "first").contains { $0.hasSuffix("[first] after") })
            #expect(supervisor.run.lines.filter { $0.contains("cannot write the log files") }.count == 1)
            try await supervisor.stop()
        }

        @Test func aFolderRemovedWhileInUseIsMadeAgain() async throws {
            let scratch = PhotonFolder()
            defer { scratch.remove() }
            let logs = Paths.join(scratch.path, "logs")
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs]) { $0.chaos("first") }
            #expect(try await supervisor.client("call", "first", "print", #"{"text": "before"}"#).code == 0)
            try await waitUntil("the first line written") { Self.lines(in: logs, "first").contains { $0.hasSuffix("[first] before") } }
            scratch.remove(logs)
            try await waitUntil("the folder made again") {
                _ = try await supervisor.client("call", "first", "print", #"{"text": "after"}"#)
                return Self.lines(in: logs, "first").contains { $0.hasSuffix("[first] after") }
            }
            #expect(try await supervisor.client("status", "first").code == 0)
            try await supervisor.stop()
        }

        @Test func badLogOptionsAreUsageErrors() async throws {
            for options in [["--log-format", "xml", "--log-dir", "/tmp"], ["--log-keep", "3"], ["--log-dir", "/tmp", "--log-max-bytes", "10"]] {
                let run = try CommandProcess(["run", "/nonexistent"] + options)
                #expect(try await run.finish() == .exited(code: 64), "\(options): \(run.lines)")
            }
        }

        /// Every line of log `name` (its rotated files oldest first, then the current one).
        static func lines(in folder: String, _ name: String) -> [String] {
            let rotated = (Paths.entries(of: folder) ?? []).compactMap { entry in
                entry.hasPrefix(name + ".log.") ? Int(entry.dropFirst(name.count + 5)) : nil
            }.sorted(by: >).map { "\(name).log.\($0)" }
            return (rotated + ["\(name).log"]).flatMap { file -> [String] in
                guard let bytes = try? Paths.read(Paths.join(folder, file)) else { return [] }
                return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
            }
        }
    }
}
