#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// The files `luminal run` writes (as root, here): its log files, its state file and its
    /// control socket are made only in folders no one else can write, never through a symlink,
    /// FIFO or hard link planted there, and each refusal names the file and why.
    @Suite struct OwnedFiles {
        @Test func aSymlinkPlantedAsALogIsNeverWrittenThroughAndIsReportedOnce() async throws {
            let scratch = PhotonFolder()
            defer { scratch.remove() }
            let logs = Paths.join(scratch.path, "logs"), victim = scratch.write("victim", "")
            #expect(mkdir(logs, 0o700) == 0)
            #expect(symlink("../victim", Paths.join(logs, "first.log")) == 0 && symlink("../victim", Paths.join(logs, "luminal.log")) == 0)
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs]) { $0.chaos("first") }
            for _ in 0..<3 {
                #expect(try await supervisor.client("call", "first", "print", #"{"text": "planted"}"#).code == 0)
            }
            for name in ["first.log", "luminal.log"] {
                try await supervisor.run.line { $0.contains("cannot write the log file \(Paths.join(logs, name))") && $0.contains("a symlink") }
            }
            try await supervisor.stop()
            #expect(try Paths.read(victim).isEmpty)
            #expect(supervisor.run.lines.filter { $0.contains("cannot write the log file \(Paths.join(logs, "first.log"))") }.count == 1)
        }

        @Test func aFIFOPlantedAsALogWithAReaderIsRefusedAndBlocksNothing() async throws {
            let logs = PhotonFolder()
            defer { logs.remove() }
            let fifo = Paths.join(logs.path, "first.log")
            #expect(mkfifo(fifo, 0o600) == 0)
            // A reader is there: an open for writing would succeed and write into it.
            let reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            #expect(reader >= 0)
            defer { closeQuietly(reader) }
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs.path]) { $0.chaos("first") }
            #expect(try await supervisor.client("call", "first", "print", #"{"text": "into the fifo"}"#).code == 0)
            try await supervisor.run.line { $0.contains("cannot write the log file \(fifo)") && $0.contains("a FIFO") }
            #expect(try await supervisor.client("call", "first", "echo", "2").output == ["2"])
            var byte: UInt8 = 0
            #expect(read(reader, &byte, 1) <= 0, "the supervisor wrote into the FIFO")
            try await supervisor.stop()
        }

        @Test(.enabled(if: getuid() == 0, "needs root to give a folder to another user"))
        func aLogFolderAnotherUserOwnsOrCanWriteIsRefusedAtStart() async throws {
            let scratch = PhotonFolder()
            defer { scratch.remove() }
            let theirs = Paths.join(scratch.path, "theirs"), open = Paths.join(scratch.path, "open")
            #expect(mkdir(theirs, 0o755) == 0 && chown(theirs, 65534, 65534) == 0 && chmod(theirs, 0o777) == 0)
            #expect(mkdir(open, 0o755) == 0 && chmod(open, 0o777) == 0)
            for (folder, owner) in [(theirs, "uid 65534"), (open, "uid 0")] {
                let lines = try await Self.refusedRun(["--log-dir", folder], in: scratch, exiting: 73)
                #expect(lines.contains { $0.contains("folder \(folder) is owned by") && $0.contains(owner) && $0.contains("mode 0777") }, "\(lines)")
                #expect(Paths.entries(of: folder) == [])
            }
        }

        @Test func twoPhotonFilesWhoseNamesEscapeAlikeGetLogsOfTheirOwn() async throws {
            let logs = PhotonFolder()
            defer { logs.remove() }
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--recursive", "--log-dir", logs.path]) { folder in
                folder.chaos("a/b", photon: "nested")
                folder.chaos("a_b", photon: "flat")
            }
            for photon in ["nested", "flat"] {
                #expect(try await supervisor.client("call", photon, "print", "{\"text\": \"from \(photon)\"}").code == 0)
            }
            var owners: [String: String] = [:]
            try await waitUntil("both lines in the log files") {
                for name in Paths.entries(of: logs.path) ?? [] where name != "luminal.log" {
                    let text = String(decoding: (try? Paths.read(Paths.join(logs.path, name))) ?? [], as: UTF8.self)
                    for photon in ["nested", "flat"] where text.contains("from \(photon)") { owners[photon] = name }
                }
                return owners.count == 2
            }
            #expect(owners["nested"] != owners["flat"], "\(owners)")
            #expect(owners["flat"] == "a_b.log")
            try await supervisor.stop()
        }

        @Test func aPhotonFileWithA255ByteNameRotatesWithinItsBound() async throws {
            let logs = PhotonFolder()
            defer { logs.remove() }
            let long = String(repeating: "p", count: 255)
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs.path, "--log-max-bytes", "1024", "--log-keep", "1000"]) {
                $0.chaos(long, photon: "long")
            }
            #expect(try await supervisor.client("call", "long", "lines", #"{"count": 500}"#).code == 0)
            var base = ""
            try await waitUntil("500 lines in the long name's logs") {
                base = (Paths.entries(of: logs.path) ?? []).first { $0.hasPrefix("ppp") && $0.hasSuffix(".log") }.map { String($0.dropLast(4)) } ?? ""
                return !base.isEmpty && LogFilesOnDisk.lines(in: logs.path, base).count >= 500
            }
            let numbers = LogFilesOnDisk.lines(in: logs.path, base).compactMap { $0.split(separator: "] line ").last.flatMap { Int($0) } }
            #expect(numbers == Array(0..<500))
            let names = (Paths.entries(of: logs.path) ?? []).filter { $0.hasPrefix(base) }
            #expect(names.count > 10 && names.allSatisfy { $0.utf8.count <= 255 }, "\(names)")
            #expect(base.utf8.count + ".log.1000".utf8.count <= 255)
            try await supervisor.stop()
        }

        @Test func aCharacterAcrossThe64KiBPieceArrivesWhole() async throws {
            let logs = PhotonFolder()
            defer { logs.remove() }
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs.path]) { $0.chaos("first") }
            // A 4-byte character whose first two bytes end the first 64 KiB piece.
            let text = String(repeating: "a", count: OutputCapture.maxLineLength - 2) + "😀tail"
            #expect(try await supervisor.client("call", "first", "print", JSONValue.object(["text": .string(text)]).description).code == 0)
            try await waitUntil("the line in the log file") { LogFilesOnDisk.lines(in: logs.path, "first").contains { $0.hasSuffix("tail") } }
            let file = LogFilesOnDisk.lines(in: logs.path, "first").joined(separator: "\n")
            #expect(file.contains("[first] 😀tail") && !file.contains("\u{FFFD}"))
            let recent = try await supervisor.client("logs", "first")
            #expect(recent.output.contains { $0.hasSuffix("[first] 😀tail") } && !recent.output.contains { $0.contains("\u{FFFD}") },
                    "\(recent.output.map { $0.suffix(20) })")
            try await supervisor.stop()
        }

        @Test(.enabled(if: getuid() == 0, "needs root to mount a tmpfs"))
        func aFullDiskIsReportedOncePerFileAndItsRecoveryOnce() async throws {
            let logs = PhotonFolder()
            defer { logs.remove() }
            #expect(mount("tmpfs", logs.path, "tmpfs", 0, "size=64k,mode=0700") == 0)
            defer { umount2(logs.path, Int32(MNT_DETACH)) }
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--log-dir", logs.path]) { $0.chaos("first") }
            let first = Paths.join(logs.path, "first.log")
            // 64 KiB fills up: later batches fail, and small ones may still fit in the file's last page.
            for _ in 0..<5 {
                #expect(try await supervisor.client("call", "first", "lines", #"{"count": 2000}"#).code == 0)
            }
            try await supervisor.run.line { $0.contains("cannot write the log file \(first)") && $0.contains("No space left on device") }
            #expect(try await supervisor.client("call", "first", "echo", "1").output == ["1"])
            #expect(mount("tmpfs", logs.path, "tmpfs", UInt(MS_REMOUNT), "size=16m,mode=0700") == 0)
            try await waitUntil("writing first.log again") {
                _ = try await supervisor.client("call", "first", "print", #"{"text": "after"}"#)
                return supervisor.run.lines.contains { $0.contains("writing the log file \(first) again") }
            }
            for _ in 0..<3 { _ = try await supervisor.client("call", "first", "print", #"{"text": "more"}"#) }
            try await supervisor.stop()
            #expect(supervisor.run.lines.filter { $0.contains("cannot write the log file \(first)") }.count == 1)
            #expect(supervisor.run.lines.filter { $0.contains("writing the log file \(first) again") }.count == 1)
        }

        @Test(.enabled(if: getuid() == 0, "needs root to give a file to another user"))
        func aStateFileThatIsASymlinkOrAnotherUsersIsNeverTrusted() async throws {
            let scratch = PhotonFolder()
            defer { scratch.remove() }
            // What it names records a live process (this one) as the supervisor, as a planted file would.
            let record = "\(getpid()) \(Procfs.stat(getpid())?.startTime ?? 0)\n"
            let victim = scratch.write("victim", record)
            let link = Paths.join(scratch.path, "link.state"), theirs = scratch.write("theirs.state", record, mode: 0o644)
            #expect(symlink(victim, link) == 0 && chown(theirs, 65534, 65534) == 0)
            for (state, why) in [(link, "a symlink"), (theirs, "owned by")] {
                let lines = try await Self.refusedRun(["--state", state], in: scratch, exiting: 1)
                #expect(lines.contains { $0.contains("state file \(state) cannot be trusted") && $0.contains(why) }, "\(lines)")
            }
            #expect(String(decoding: try Paths.read(victim), as: UTF8.self) == record)
        }

        @Test(.enabled(if: getuid() == 0, "needs root to give a folder to another user"))
        func aControlSocketFolderAnotherUserCanWriteIsRefused() async throws {
            let scratch = PhotonFolder()
            defer { scratch.remove() }
            let theirs = Paths.join(scratch.path, "theirs")
            #expect(mkdir(theirs, 0o755) == 0 && chown(theirs, 65534, 65534) == 0 && chmod(theirs, 0o777) == 0)
            let target = Paths.join(scratch.path, "target")
            #expect(symlink(target, Paths.join(scratch.path, "link.sock")) == 0)
            for (socket, why) in [(Paths.join(theirs, "control.sock"), "is owned by"), (Paths.join(scratch.path, "link.sock"), "not a socket")] {
                let lines = try await Self.refusedRun(["--control", socket], in: scratch, exiting: 73)
                #expect(lines.contains { $0.contains("cannot serve the control socket") && $0.contains(why) }, "\(lines)")
            }
            #expect(Paths.entries(of: theirs) == [] && Paths.kind(target) == .missing)
        }

        @Test(.enabled(if: getuid() == 0, "needs root to give a symlink to another user"))
        func aSymlinkAnotherUserMadeInAStickyFolderIsNeverFollowed() async throws {
            let scratch = PhotonFolder()
            defer { scratch.remove() }
            // Like /tmp: anyone may make an entry in it, and another user made this link.
            let sticky = Paths.join(scratch.path, "sticky"), victim = Paths.join(scratch.path, "victim")
            #expect(mkdir(sticky, 0o755) == 0 && chmod(sticky, 0o1777) == 0 && mkdir(victim, 0o700) == 0)
            let link = Paths.join(sticky, "theirs")
            #expect(symlink(victim, link) == 0 && lchown(link, 65534, 65534) == 0)
            for (options, code) in [(["--log-dir", link], Int32(73)), (["--control", Paths.join(link, "c.sock")], 73),
                                    (["--state", Paths.join(link, "state")], 1)] {
                let lines = try await Self.refusedRun(options, in: scratch, exiting: code)
                #expect(lines.contains { $0.contains("is a symlink owned by uid 65534") }, "\(options): \(lines)")
            }
            #expect(Paths.entries(of: victim) == [])
        }

        /// Runs `luminal run` on a folder with one photon, its control socket and state file in
        /// `scratch` unless `options` name others, expecting it to exit with `code` at once; its lines.
        static func refusedRun(_ options: [String], in scratch: PhotonFolder, exiting code: Int32) async throws -> [String] {
            let photons = PhotonFolder()
            defer { photons.remove() }
            photons.chaos("first")
            var arguments = ["run", photons.path, "--no-watch"] + options
            if !options.contains("--control") { arguments += ["--control", Paths.join(scratch.path, "control.sock")] }
            if !options.contains("--state") { arguments += ["--state", Paths.join(scratch.path, "state")] }
            let run = try CommandProcess(arguments)
            #expect(try await run.finish() == .exited(code: code), "\(run.lines)")
            return run.lines
        }
    }
}
