#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalDaemon
@testable import LuminalSystem
import LuminalWire
import Testing

extension HostileCase {
    /// Every row of the hostile-input table.
    static let all: [HostileCase] = files + workers + clients + logLines + values + controlSlots + storms + processes + endpoints + lifecycle + links
        + health + events

    /// Files and folders that are not photon files, or are photon files that cannot be used.
    static let files: [HostileCase] = [
        HostileCase("an executable FIFO added while watching") { supervisor in
            let fifo = Paths.join(supervisor.photons.path, "fifo")
            #expect(mkfifo(fifo, 0o755) == 0)
            try await supervisor.reported(fifo)
        },
        HostileCase("a symlink to /dev/zero added while watching") { supervisor in
            let link = Paths.join(supervisor.photons.path, "zero")
            #expect(symlink("/dev/zero", link) == 0)
            try await supervisor.reported(link)
        },
        HostileCase("a symlink loop added while watching") { supervisor in
            let first = Paths.join(supervisor.photons.path, "loop-a"), second = Paths.join(supervisor.photons.path, "loop-b")
            #expect(symlink(second, first) == 0 && symlink(first, second) == 0)
            try await supervisor.reported(first)
        },
        HostileCase("two symlinks to the folder's parent, watched recursively", options: ["--recursive"], prepare: { folder in
            folder.mkdirAll(Paths.join(folder.path, "sub"))
            symlink("..", Paths.join(folder.path, "sub/up"))
            symlink("..", Paths.join(folder.path, "sub/again"))
        }) { supervisor in
            // Each photon file is loaded once, by its own path.
            let files = try await supervisor.client("status", "--json").json().arrayValue?.compactMap { $0["file"]?.stringValue } ?? []
            #expect(files.allSatisfy { !$0.contains("/sub/") }, "\(files)")
        },
        HostileCase("an 8 GiB sparse executable added while watching") { supervisor in
            let huge = Paths.join(supervisor.photons.path, "huge")
            let fd = open(huge, O_WRONLY | O_CREAT | O_CLOEXEC, 0o755)
            #expect(ftruncate(fd, 8 << 30) == 0)
            close(fd)
            // It may take long to hash; meanwhile everything else goes on (the checks that follow).
        },
        HostileCase("a package whose photon.json has a misspelt key", prepare: { folder in
            folder.write("typo/photon.json", #"{"exec": "run", "restrat": "always"}"#)
            folder.script("typo/run", "exec '\(BuildProducts.chaosPhoton)' serve typo")
        }) { supervisor in
            try await supervisor.reported(Paths.join(supervisor.photons.path, "typo"), saying: "restrat")
        },
        HostileCase("a package whose photon.json is cut short", prepare: { folder in
            folder.write("cut/photon.json", #"{"exec": "ru"#)
            folder.script("cut/run", "exec '\(BuildProducts.chaosPhoton)' serve cut")
        }) { supervisor in
            try await supervisor.reported(Paths.join(supervisor.photons.path, "cut"))
        },
        HostileCase("an executable whose name is not UTF-8") { supervisor in
            let name: [UInt8] = Array("bad-".utf8) + [0xFF, 0xFE]
            let path = Array(supervisor.photons.path.utf8) + [UInt8(ascii: "/")] + name
            let cPath = path.map { CChar(bitPattern: $0) } + [0]
            let fd = open(cPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o755)
            #expect(fd >= 0)
            close(fd)
            defer { unlink(cPath) }
            try await supervisor.reported(Paths.join(supervisor.photons.path, "bad-"))
        },
    ]

    /// Workers that hold back or overwhelm the supervisor.
    static let workers: [HostileCase] = [
        HostileCase("two photon files that never say hello, named to load first", prepare: { folder in
            // The bystander must start while these wait out their hour-long handshakes.
            for name in ["aa-silent", "ab-silent"] {
                folder.write("\(name)/photon.json", #"{"exec": "run", "timeouts": {"handshake": 3600}}"#)
                folder.script("\(name)/run", "exec '\(BuildProducts.chaosPhoton)' no-hello \(name)")
            }
        }) { _ in },
        HostileCase("a worker whose hello declares 100,000 photons", prepare: { folder in
            folder.write("crowd", """
            #!/usr/bin/env python3
            import json, os, struct
            photons = [{"name": "p%d" % n, "kinds": ["IPhoton"]} for n in range(100000)]
            hello = json.dumps({"type": "hello", "protocol": 1, "pid": os.getpid(), "photons": photons}).encode()
            os.write(4, struct.pack(">I", len(hello)) + hello)
            while os.read(3, 65536):
                pass
            """, mode: 0o755)
        }) { supervisor in
            // Loaded or refused, it is said; then status must still carry whatever is loaded.
            try await supervisor.reported(Paths.join(supervisor.photons.path, "crowd"))
        },
    ]

    /// Local control clients that do not read, flood, crowd the socket, or send garbage.
    static let clients: [HostileCase] = [
        HostileCase("an events client that stops reading while photons emit") { supervisor in
            let stalled = try RawControlConnection(supervisor.control)
            stalled.shrinkReceiveBuffer(to: 4096)
            stalled.send(ControlRequest(.events))
            let data = String(repeating: "e", count: 16 * 1024)
            for _ in 0..<10 {
                #expect(try await supervisor.client("call", "bystander", "emit", #"{"count": 1000, "data": "\#(data)"}"#, "--timeout", "300").code == 0)
            }
            withExtendedLifetime(stalled) {}
        },
        HostileCase("a logs -f client that stops reading while a photon floods 128 MiB of output") { supervisor in
            let stalled = try RawControlConnection(supervisor.control)
            stalled.shrinkReceiveBuffer(to: 4096)
            stalled.send(ControlRequest(.logs, follow: true))
            let flood = try await supervisor.client("call", "bystander", "flood", #"{"bytes": 134217728}"#, "--timeout", "300")
            #expect(flood.code == 0, "\(flood.lines.suffix(5)); the supervisor said: \(supervisor.run.lines.filter { !$0.contains("xxxxxxxx") }.suffix(15))")
            withExtendedLifetime(stalled) {}
        },
        HostileCase("2,000 pipelined logs requests whose replies are never read") { supervisor in
            #expect(try await supervisor.client("call", "bystander", "lines", #"{"count": 2000}"#).code == 0)
            let stalled = try RawControlConnection(supervisor.control)
            stalled.write(Array(repeating: ControlRequest(.logs, lines: 2000), count: 2000).flatMap { Frame.encode($0.json) })
            #expect(try await supervisor.client("status").code == 0)
            withExtendedLifetime(stalled) {}
        },
        HostileCase("more control clients than the limit, all idle") { supervisor in
            var crowd = try (0..<ControlServer.connectionLimit).map { _ in
                let connection = try RawControlConnection(supervisor.control)
                connection.send(ControlRequest(.status))
                _ = try connection.receive()
                return connection
            }
            // A newcomer is served: the client idle the longest is closed for it.
            let late = try RawControlConnection(supervisor.control)
            late.send(ControlRequest(.status))
            #expect(try late.receive()?["ok"] == true)
            #expect(try crowd[0].receive() == nil)
            crowd[1].send(ControlRequest(.status))
            #expect(try crowd[1].receive()?["ok"] == true)
            // The crowd leaves; the supervisor gives its places back when it reads their ends.
            crowd = []
            try await supervisor.everyControlPlaceFree()
        },
        HostileCase("a client that sends a 2 GiB length prefix, then garbage") { supervisor in
            let hostile = try RawControlConnection(supervisor.control)
            hostile.write([0x7F, 0xFF, 0xFF, 0xFF] + Array(repeating: 0xEE, count: 1 << 20))
            try hostile.readToEnd()
        },
    ]
}

extension SupervisedFolder {
    /// Waits until the supervisor's log names `path` (and `saying`, if given): a file it does
    /// not load is reported, not skipped in silence.
    func reported(_ path: String, saying detail: String? = nil) async throws {
        try await run.line { $0.contains(path) && (detail.map($0.contains) ?? true) }
    }
}
