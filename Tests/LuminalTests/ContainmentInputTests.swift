#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor.Containment {
    /// Manifest values that are refused, each with the key and what is allowed.
    static let refusedKeys: [(keys: String, key: String, allowed: String)] = [
        (#""limits": {"memory": "512X"}"#, "limits.memory", "K, M, G or T"),
        (#""limits": {"memory": -1}"#, "limits.memory", "a size from"),
        (#""limits": {"memory": "1K"}"#, "limits.memory", "from 1048576"),
        (#""limits": {"tasks": 0}"#, "limits.tasks", "from 1 to"),
        (#""limits": {"files": 1e12}"#, "limits.files", "to 1048576"),
        (#""limits": {"cpu": "50"}"#, "limits.cpu", "percentage"),
        (#""limits": {"swap": 1}"#, "limits.swap", "allowed: memory, cpu, tasks, files, core, cpu_time"),
        (#""umask": "999""#, "umask", "octal"),
        (#""no_new_privileges": "yes""#, "no_new_privileges", "true or false"),
        (#""recycle": {"calls": 0}"#, "recycle.calls", "from 1"),
        (#""recycle": {"age": "1h"}"#, "recycle.age", "seconds"),
        (#""control": "yes""#, "control", "\"allow\""),
        (#""timeouts": {"call": 0}"#, "timeouts.call", "above 0 up to 86400, or null for no timeout"),
        (#""timeouts": {"call": "60s"}"#, "timeouts.call", "a number of seconds"),
        (#""health": {"unresponsive": -1}"#, "health.unresponsive", "or null never to replace"),
        (#""health": {"stuck": 5}"#, "health.stuck", "allowed: interval, timeout, unresponsive"),
    ]

    @Test func badLimitsAndIdentityKeysAreRefusedNamingTheManifestTheKeyAndWhatIsAllowed() async throws {
        try await withLoader { loader, folder in
            for (index, refused) in Self.refusedKeys.enumerated() {
                let path = try package(folder, "bad\(index)", refused.keys)
                let error = try await #require(throws: LoaderError.self, "\(refused.keys)") { try await loader.loadPhoton(at: path) }
                #expect(error.code == .invalidManifest)
                #expect(error.message.contains(Paths.join(path, "photon.json")), "\(error.message)")
                #expect(error.message.contains("'\(refused.key)'") && error.message.contains(refused.allowed), "\(error.message)")
            }
            // Nothing else is disturbed.
            let good = try await started(loader, folder.chaos("good"))
            #expect(try await good.call("echo", params: "fine") == "fine")
        }
    }

    @Test func aDescriptorLimitThatLeavesTheWorkerNoneOfItsOwnIsRefusedBeforeItRuns() async throws {
        try await withLoader { loader, folder in
            // fds 0-4, and two held sockets at 5 and 6: a limit of 7 leaves it nothing to open.
            let path = try package(folder, "tight", #""limits": {"files": 7}, "sockets": ["unix:a.sock", "unix:b.sock"]"#)
            let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
            #expect(error.code == .spawnFailed && error.message.contains(path), "\(error.message)")
            #expect(error.message.contains("'limits.files' allows 7") && error.message.contains("handed 7") && error.message.contains("2 held sockets"), "\(error.message)")
            // Refused before its sockets are bound: none is left in the package.
            #expect(access(Paths.join(path, "a.sock"), F_OK) != 0 && access(Paths.join(path, "b.sock"), F_OK) != 0)
            #expect(loader.context.liveWorkers.isEmpty)
            let roomy = try package(folder, "roomy", #""limits": {"files": 64}, "sockets": ["unix:a.sock", "unix:b.sock"]"#)
            #expect(try await started(loader, roomy).call("echo", params: "room") == "room")
        }
        var configuration = LoaderConfiguration.fast
        configuration.limits.openFiles = 1
        try await withLoader(configuration: configuration) { loader, folder in
            let path = try package(folder, "defaults", "")
            let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
            #expect(error.message.contains(path) && error.message.contains("the loader's limits (files) allows 1 open descriptor,") && error.message.contains("handed 5"), "\(error.message)")
        }
    }

    @Test func aFilesLimitAboveTheSupervisorsOwnHardLimitIsRefusedWhenItMayNotRaiseIt() async throws {
        var own = rlimit()
        getrlimit(__rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue)), &own)
        guard own.rlim_max < 1_048_576 else { return } // nothing above it to ask
        try await withLoader { loader, folder in
            let path = try package(folder, "above", #""limits": {"files": \#(own.rlim_max + 1)}"#)
            if Capabilities.holds(Capabilities.sysResource) {
                // It may raise it: the worker gets the limit asked.
                let handler = try await started(loader, path)
                #expect(try await handler.call("echo", params: "raised") == "raised")
            } else {
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.code == .spawnFailed && error.message.contains(path), "\(error.message)")
                #expect(error.message.contains("'limits.files' asks \(own.rlim_max + 1), a hard limit of \(own.rlim_max + 1), above the supervisor's own \(own.rlim_max)") && error.message.contains("CAP_SYS_RESOURCE") && error.message.contains("ask at most \(own.rlim_max), or raise the supervisor's own hard limit (LimitNOFILE= in its unit, or ulimit -Hn"), "\(error.message)")
                #expect(loader.context.liveWorkers.isEmpty)
                let within = try package(folder, "within", #""limits": {"files": \#(own.rlim_max)}"#)
                #expect(try await started(loader, within).call("echo", params: "within") == "within")
            }
        }
    }

    @Test func aRestartOfAFileThatCouldNotStartNowIsRefusedAndStopsNothing() async throws {
        try await withLoader { loader, folder in
            let path = try package(folder, "rs", "")
            let handler = try await started(loader, path)
            let pid = handler.pid
            let manifest = #"{"exec": "chaos-photon", "args": ["serve", "rs"]"#
            for (keys, says) in [(#", "lmits": {}"#, "key 'lmits' is not allowed"), (#", "user": "no-such-user-luminal""#, "'no-such-user-luminal' does not exist"),
                                 (#", "limits": {"files": 3}"#, "allows 3 open descriptors"), (", ", "cannot be read as JSON")] {
                folder.write("rs/photon.json", manifest + keys + "}")
                let error = try await #require(throws: LoaderError.self, "\(keys)") { try await loader.restartPhoton(path) }
                #expect(error.message.contains("restart of \(path) refused, nothing was stopped") && error.message.contains(says), "\(error.message)")
                #expect(handler.pid == pid && handler.state == .started)
                #expect(try await handler.call("echo", params: "still") == "still")
            }
            folder.write("rs/photon.json", manifest + "}")
            let restarted = try #require(try await loader.restartPhoton("rs").first)
            #expect(restarted.pid != pid && restarted.state == .started)
            #expect(try await restarted.call("echo", params: "again") == "again")
        }
    }

    @Test(arguments: [("user", "no-such-user-luminal"), ("group", "no-such-group-luminal")])
    func anUnknownUserOrGroupIsRefusedByName(key: String, name: String) async throws {
        try await withLoader { loader, folder in
            let path = try package(folder, "stranger", #""\#(key)": "\#(name)""#)
            let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
            #expect(error.message.contains(path) && error.message.contains("key '\(key)'") && error.message.contains("'\(name)' does not exist"), "\(error.message)")
        }
    }

    @Test func switchingUserNeedsTheSupervisorToBeRoot() throws {
        let error = try #require(throws: IdentityError.self) {
            try ResolvedIdentity.resolve(PhotonIdentity(user: "nobody"), supervisor: (uid: 1000, gid: 1000))
        }
        #expect(error.message.contains("needs the supervisor to run as root") && error.message.contains("uid 1000"))
        // Its own user is no switch.
        #expect(try ResolvedIdentity.resolve(PhotonIdentity(user: "1000"), supervisor: (uid: 1000, gid: 1000))?.uid == 1000)
    }

    @Test func aPackageOthersCanChangeIsNotRunAsRootByItsManifest() async throws {
        try await withLoader { loader, folder in
            let path = try package(folder, "rooted", #""user": "root""#)
            chmod(path, 0o775)
            let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
            #expect(error.message.contains(path) && error.message.contains("run as root") && error.message.contains("writable by its group"), "\(error.message)")
            chmod(path, 0o755)
            let handler = try await started(loader, path)
            #expect(try await handler.call("echo", params: "root") == "root")
        }
    }
}

extension Supervisor.Containment {
    @Test func aPhotonCannotDriveItsSupervisorUnlessItsManifestAllowsIt() async throws {
        let luminal = Paths.join(BuildProducts.directory, "luminal")
        let supervisor = try await SupervisedFolder { folder in
            folder.chaos("confined")
            folder.write("trusted/photon.json", #"{"exec": "run", "control": "allow"}"#)
            folder.script("trusted/run", "exec '\(BuildProducts.chaosPhoton)' serve trusted")
        }
        for (photon, allowed) in [("confined", false), ("trusted", true)] {
            let params = #"{"argv": ["\#(luminal)", "status", "--control", "\#(supervisor.control)"]}"#
            let reply = try await supervisor.client("call", photon, "run", params, "--json").json()
            let output = reply["output"]?.stringValue ?? ""
            #expect((reply["code"]?.intValue == 0) == allowed, "\(photon): \(reply)")
            if allowed {
                #expect(output.contains("confined") && output.contains("trusted"), "\(output)")
            } else {
                #expect(output.contains("refused") && output.contains("photon file") && output.contains("\"control\": \"allow\""), "\(output)")
            }
        }
        // The operator is served as before.
        #expect(try await supervisor.client("status").code == 0)
        try await supervisor.stop()
    }
}
