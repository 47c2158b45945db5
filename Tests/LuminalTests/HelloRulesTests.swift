#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Synchronization
import Testing

extension Supervisor {
    /// What the host accepts in a hello (PROTOCOL.md §3.1, §5), with real workers.
    @Suite struct HelloRules {
        @Test func luminalRunLoadsEveryPhotonWhateverItsKinds() async throws {
            let supervisor = try await SupervisedFolder {
                // Written from the spec alone: "kinds" may be empty.
                $0.python("bare.py", "p = Photon('bare')\n@p.method()\ndef echo(params, ctx):\n    return params\nrun(p)")
                $0.chaos("other", mode: "no-base")
            }
            try await supervisor.run.line { $0.contains("2 of 2 photons started") }
            #expect(try await supervisor.client("call", "bare", "echo", "7").output == ["7"])
            try await supervisor.stop()
        }

        @Test func theLoaderAPIStillFiltersByBaseWhenAsked() async throws {
            try await withLoader { loader, folder in
                let path = folder.python("bare.py", "run(Photon('bare'))")
                #expect(try await loader.loadPhoton(at: path, base: nil).map(\.name) == ["bare"])
                await loader.unloadAll()
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.code == .noPhotonOfBase)
            }
        }

        @Test func aHelloDeclaringTooManyPhotonsFailsTheLoadNamingFileLimitAndValue() async throws {
            try await withLoader { loader, folder in
                let path = folder.script("many", "exec '\(BuildProducts.chaosPhoton)' many m 100000")
                let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                #expect(error.code == .invalidHello)
                #expect(error.message.contains(path) && error.message.contains("100000 photons") && error.message.contains("1024"))
                #expect(await loader.photons.isEmpty)
            }
        }

        @Test func aHelloAtThePhotonLimitLoads() async throws {
            try await withLoader { loader, folder in
                let handlers = try await loader.loadPhoton(at: folder.script("many", "exec '\(BuildProducts.chaosPhoton)' many m 1024"))
                #expect(handlers.count == 1024)
            }
        }

        @Test(arguments: [
            ("kinds", "Photon('p', kinds=['IPhoton'] + ['K%d' % i for i in range(64)])", "65 kinds", "64"),
            ("methods", "p = Photon('p')\nfor i in range(1025): p.method('m%d' % i)(lambda params, ctx: None)", "1025 methods", "1024"),
            ("kind name", "Photon('p', kinds=['K' * 257])", "257 bytes", "256"),
            ("method name", "p = Photon('p')\np.method('m' * 257)(lambda params, ctx: None)", "257 bytes", "256"),
            ("metadata", "Photon('p', metadata={'blob': 'x' * 70000})", "bytes of metadata", "65536"),
        ])
        func aHelloOverALimitFailsTheLoad(what: String, photon: String, value: String, limit: String) async throws {
            try await withLoader { loader, folder in
                let body = photon.hasPrefix("p = ") ? "\(photon)\nrun(p)" : "run(\(photon))"
                let path = folder.python("over.py", body)
                let error = try await #require(throws: LoaderError.self, "\(what)") { try await loader.loadPhoton(at: path, base: nil) }
                #expect(error.code == .invalidHello)
                #expect(error.message.contains(path) && error.message.contains(value) && error.message.contains(limit), "\(error.message)")
            }
        }

        @Test func aHelloPidOfAnotherProcessIsWarnedAboutAndTheSpawnedProcessIsSupervised() async throws {
            let records = Mutex<[LogRecord]>([])
            let folder = PhotonFolder()
            defer { folder.remove() }
            let loader = Loader(logging: true, configuration: .fast, logSink: { record in records.withLock { $0.append(record) } })
            // A wrapper that forks instead of exec: the worker that says hello is its child.
            let path = folder.script("wrapped", "'\(BuildProducts.chaosPhoton)' serve wrapped")
            let handler = try #require(try await loader.loadPhoton(at: path).first)
            try await handler.start()
            let worker = try #require(try await handler.call("inspect")["pid"]?.intValue)
            #expect(Int64(handler.pid) != worker)
            loader.flushLog()
            let warning = try #require(records.withLock { $0 }.first { $0.level == .warning && $0.message.contains("pid \(worker)") })
            #expect(warning.message.contains(path) && warning.message.contains("pid \(handler.pid)"))
            await loader.unloadAll()
            #expect(!exists(handler.pid) && !exists(pid_t(worker))) // the whole tree went
        }

        @Test func statusJSONShowsEachPhotonsMetadataAndTheTableStaysAsItWas() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let status = try await supervisor.client("status", "--json").json()
            let metadata = try #require(status.arrayValue?.first?["metadata"])
            #expect(metadata == ["author": "tests", "version": "1.0.0", "description": "chaos photon", "tags": ["test"]])
            let table = try await supervisor.client("status").output
            #expect(table.first?.split(separator: " ") == ["NAME", "STATE", "PID", "GEN", "RESTARTS", "UPTIME", "FILE"])
            try await supervisor.stop()
        }
    }
}
