#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Synchronization
import Testing

extension Supervisor {
    /// Cgroups, limits and identities, read back from inside real workers.
    @Suite(.serialized) struct Containment {
        /// Loads and starts the one photon of the photon file at `path`.
        func started(_ loader: Loader, _ path: String) async throws -> Handler {
            let handler = try #require(try await loader.loadPhoton(at: path).first)
            try await handler.start()
            return handler
        }

        /// What the worker of `handler` says of itself (`chaos-photon`'s `inspect`).
        func inspect(_ handler: Handler) async throws -> [String: JSONValue] {
            try #require(try await handler.call("inspect").objectValue)
        }

        /// The line of `/proc/PID/status` or `/proc/PID/limits` text that starts with `prefix`.
        func line(_ text: JSONValue?, _ prefix: String) -> String {
            (text?.stringValue ?? "").split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init) ?? ""
        }

        /// A package running chaos-photon (copied in, so any user can run it) with `manifest` keys.
        func package(_ folder: PhotonFolder, _ name: String, _ keys: String) throws -> String {
            chmod(folder.path, 0o755)
            let binary = Paths.join(folder.path, "\(name)/chaos-photon")
            folder.write("\(name)/photon.json", #"{"exec": "chaos-photon", "args": ["serve", "\#(name)"]\#(keys.isEmpty ? "" : ", " + keys)}"#)
            let bytes = try Paths.read(BuildProducts.chaosPhoton)
            let fd = open(binary, O_WRONLY | O_CREAT | O_TRUNC, 0o755)
            bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
            chmod(Paths.join(folder.path, name), 0o755)
            return Paths.join(folder.path, name)
        }

        @Test func eachGenerationHasItsOwnCgroupWhichGoesWithIt() async throws {
            try await withLoader { loader, folder in
                let handler = try await started(loader, folder.chaos("alpha"))
                guard case .cgroup(let path)? = handler.containment?.holder else {
                    Issue.record("no cgroup: \(String(describing: handler.containment))")
                    return
                }
                let inside = try await inspect(handler)["cgroup"]?.stringValue ?? ""
                let relative = String(inside.split(separator: "\n").first { $0.hasPrefix("0::") }?.dropFirst(3) ?? "")
                #expect(!relative.isEmpty && path.hasSuffix(relative), "\(inside)")
                #expect(Paths.kind(path) == .directory)
                // What the tree uses, in status: the worker holds fds 0-4 at least.
                let usage = try #require(handler.statusJSON["usage"])
                #expect((usage["processes"]?.intValue ?? 0) >= 1 && (usage["residentBytes"]?.intValue ?? 0) > 0)
                #expect((usage["openFiles"]?.intValue ?? 0) >= 5 && usage["cpuSeconds"]?.doubleValue != nil, "\(usage)")
                try await loader.reloadPhoton(handler)
                guard case .cgroup(let next)? = handler.containment?.holder else {
                    Issue.record("no cgroup after the reload")
                    return
                }
                #expect(next != path)
                try await waitUntil("the old generation's cgroup removed") { Paths.kind(path) == .missing }
                try await loader.unloadPhoton(handler)
                try await waitUntil("the cgroup removed") { Paths.kind(next) == .missing }
            }
        }

        @Test func aDescendantThatUnsetsTheMarkerAndDoubleForksIsStillKilled() async throws {
            try await withLoader { loader, folder in
                let handler = try await started(loader, folder.chaos("alpha"))
                let escapee = pid_t(try #require(try await handler.call("escape").intValue))
                let stat = try #require(Procfs.stat(escapee))
                #expect(stat.ppid != handler.pid)
                let marked = Procfs.environment(of: escapee, contains: "LUMINAL_WORKER=")
                #expect(!marked)
                #expect(stat.pgid != handler.pid)
                try await loader.unloadPhoton(handler)
                try await waitUntil("the escaped grandchild gone") { Procfs.stat(escapee) == nil }
            }
        }

        @Test func limitsUmaskAndNoNewPrivilegesAreInForceInsideTheWorker() async throws {
            try await withLoader { loader, folder in
                let path = try package(folder, "limited", #""limits": {"files": 100, "core": 0, "cpu_time": 600}, "umask": "027", "no_new_privileges": true"#)
                let handler = try await started(loader, path)
                let facts = try await inspect(handler)
                #expect(line(facts["limits"], "Max open files").split(separator: " ").suffix(3).prefix(2) == ["100", "100"])
                #expect(line(facts["limits"], "Max core file size").split(separator: " ").suffix(3).prefix(2) == ["0", "0"])
                #expect(line(facts["limits"], "Max cpu time").split(separator: " ").suffix(3).prefix(2) == ["600", "601"])
                #expect(line(facts["status"], "Umask:").hasSuffix("0027"))
                #expect(line(facts["status"], "NoNewPrivs:").hasSuffix("1"))
                let limits = try #require(handler.containment?.limits)
                #expect(Set(limits.map(\.key)) == ["files", "core", "cpu_time"])
                #expect(limits.allSatisfy { $0.enforced })
            }
        }

        @Test func aPhotonRunsAsAnotherUserWithThatUsersGroups() async throws {
            try await withLoader { loader, folder in
                let path = try package(folder, "other", #""user": "nobody""#)
                let handler = try await started(loader, path)
                let facts = try await inspect(handler)
                let nobody = try #require(getpwnam("nobody"))
                let uid = nobody.pointee.pw_uid, gid = nobody.pointee.pw_gid
                #expect(line(facts["status"], "Uid:").split(whereSeparator: \.isWhitespace).dropFirst().map(String.init) == Array(repeating: String(uid), count: 4))
                #expect(line(facts["status"], "Gid:").split(whereSeparator: \.isWhitespace).dropFirst().map(String.init) == Array(repeating: String(gid), count: 4))
                #expect(line(facts["status"], "Groups:").split(whereSeparator: \.isWhitespace).dropFirst().contains(Substring(String(gid))))
                #expect(handler.containment?.identity == "nobody:\(gid)")
                let echoed = try await handler.call("echo", params: "as nobody")
                #expect(echoed == "as nobody")
            }
        }

        @Test func aLimitThisHostCannotEnforceIsSaidAtLoadAndShownInStatus() async throws {
            let records = Mutex<[LogRecord]>([])
            let folder = PhotonFolder()
            defer { folder.remove() }
            let loader = Loader(logging: true, configuration: .fast, logSink: { record in records.withLock { $0.append(record) } })
            let path = try package(folder, "capped", #""limits": {"memory": "64M", "tasks": 32, "cpu": "50%"}"#)
            let handler = try await started(loader, path)
            loader.flushLog()
            let limits = try #require(handler.containment?.limits)
            for (key, controller) in [("memory", "memory"), ("tasks", "pids"), ("cpu", "cpu")] {
                let limit = try #require(limits.first { $0.key == key })
                let enforceable = (try? CgroupHost.shared.controller(controller).get()) != nil
                #expect(limit.enforced == enforceable, "\(key): \(limit)")
                let said = records.withLock { $0 }.filter { $0.level == .warning && $0.message.contains("limit '\(key)'") }
                #expect(said.count == (enforceable ? 0 : 1))
                if !enforceable {
                    #expect(said.first?.message.contains(path) == true && said.first?.message.contains("cannot be enforced") == true)
                    #expect(limit.reason?.isEmpty == false)
                }
            }
            #expect(limits.first { $0.key == "cpu" }?.value == 50)
            #expect(handler.statusJSON["containment"]?["limits"]?.arrayValue?.count == 3)
            await loader.unloadAll()
        }

        @Test func aWorkerPastItsCPUTimeLimitIsReportedAsSuch() async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let events = EventLog(loader)
                let path = try package(folder, "spinner", #""limits": {"cpu_time": 1}"#)
                let handler = try await started(loader, path)
                _ = try? await handler.call("spin")
                let failure = try await events.first("failed event") { event in
                    if case .failed(_, let failure, _, _) = event { return failure }
                    return nil
                }
                #expect(failure == .cpuTimeLimit)
                #expect(handler.failureClass == .cpuTimeLimit)
            }
        }
    }
}
