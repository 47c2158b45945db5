#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalTestKit
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    @Suite struct Load {
        @Test func handlerDescribesTheWorkerAndItsPhoton() async throws {
            try await withLoader { loader, folder in
                let path = folder.chaos("alpha")
                let handlers = try await loader.loadPhoton(at: path)
                let handler = try #require(handlers.first)
                #expect(handlers.count == 1)
                #expect(handler.name == "alpha")
                #expect(handler.filePath == path)
                #expect(handler.checksum == (try FileDigest.sha256(of: [path])))
                #expect(handler.checksum.count == 64)
                #expect(handler.kinds == ["IPhoton"])
                #expect(handler.metadata.author == "tests")
                #expect(handler.metadata.version == "1.0.0")
                #expect(handler.metadata.tags == ["test"])
                #expect(handler.methods.contains("echo"))
                #expect(handler.state == .ready)
                #expect(handler.generation == 1)
                #expect(isAlive(handler.pid))
                #expect(await loader.photons["alpha"] === handler)
            }
        }

        @Test func loadedEventNamesTheFilePhotonsPidAndGeneration() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let path = folder.chaos("multi", mode: "multi", photon: "m")
                let handlers = try await loader.loadPhoton(at: path)
                let loaded = try await events.first("loaded event") { event in
                    if case .loaded(let file, let photons, let pid, let generation) = event { return (file, photons, pid, generation) }
                    return nil
                }
                #expect(loaded.0 == path)
                #expect(loaded.1.sorted() == ["m-a", "m-b"])
                #expect(loaded.2 == handlers[0].pid)
                #expect(loaded.3 == 1)
            }
        }

        /// Each load says when it began (`loadStarted`), then how it ended: `loaded` or `loadFailed`.
        @Test func aLoadSaysWhenItBeganThenHowItEnded() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let good = folder.chaos("alpha")
                let broken = folder.script("broken", "exit 3")
                _ = try await loader.loadPhoton(at: good)
                await #expect(throws: LoaderError.self) { try await loader.loadPhoton(at: broken) }
                let order = try await events.satisfy("both loads' events") { events -> [String]? in
                    let names = events.compactMap { event -> String? in
                        switch event {
                        case .loadStarted(let file): "began \(Paths.name(file))"
                        case .loaded(let file, _, _, _): "loaded \(Paths.name(file))"
                        case .loadFailed(let file, _): "failed \(Paths.name(file))"
                        default: nil
                        }
                    }
                    return names.count == 4 ? names : nil
                }
                #expect(order == ["began alpha", "loaded alpha", "began broken", "failed broken"])
            }
        }

        @Test func startThenCallReturnsThePhotonsResult() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                await #expect(throws: LoaderError.self) { try await handler.call("echo") }
                try await handler.start()
                #expect(handler.state == .started)
                try await events.log("alpha started")
                let params: JSONValue = ["text": "hi", "n": 3, "list": [1, 2.5, nil, true]]
                #expect(try await handler.call("echo", params: params) == params)
                try await handler.start() // starting twice does nothing
                _ = try await events.first("started event") { event in
                    if case .started(let photon, _) = event, photon == "alpha" { return true }
                    return nil
                }
            }
        }

        @Test func callBeforeStartSaysToStartFirst() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                let error = try await #require(throws: LoaderError.self) { try await handler.call("echo") }
                #expect(error.code == .notStarted)
                #expect(error.message.contains("alpha"))
                #expect(error.message.contains("start()"))
            }
        }

        @Test func photonErrorsArriveWithTheirCodeMessageAndData() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("alpha")).first)
                try await handler.start()
                let failed = try await #require(throws: LoaderError.self) { try await handler.call("fail") }
                #expect(failed.code == .photonError)
                #expect(failed.reply == ReplyError(code: "photon_error", message: "asked to fail", data: ["why": "test"]))
                #expect(failed.photon == "alpha")
                let unknown = try await #require(throws: LoaderError.self) { try await handler.call("nope") }
                #expect(unknown.reply?.code == "unknown_method")
                #expect(unknown.message.contains("nope"))
                let bad = try await #require(throws: LoaderError.self) { try await handler.call("bad-params") }
                #expect(bad.reply?.code == "invalid_params")
                #expect(try await handler.call("echo", params: "still fine") == "still fine")
            }
        }

        @Test func pythonPhotonLoadsAndAnswersLikeAnyOther() async throws {
            try await withLoader { loader, _ in
                let events = EventLog(loader)
                let path = Paths.join(BuildProducts.repository, "protocol/python/example_photon.py")
                let handler = try #require(try await loader.loadPhoton(at: path).first)
                #expect(handler.name == "py-greeter")
                #expect(handler.metadata.tags.contains("python"))
                try await handler.start()
                #expect(try await handler.call("greet", params: ["who": "Ada"]) == ["greeting": "Hello, Ada!"])
                #expect(try await handler.call("add", params: ["a": 2, "b": 3])["sum"]?.doubleValue == 5)
                let bad = try await #require(throws: LoaderError.self) { try await handler.call("greet", params: ["who": 7]) }
                #expect(bad.reply?.code == "invalid_params")
                _ = try await handler.call("tick", params: ["n": 4])
                let data = try await events.first("tick event") { event in
                    if case .photonEvent("py-greeter", _, "tick", let data) = event { return data }
                    return nil
                }
                #expect(data == ["n": 4])
                try await loader.unloadPhoton(handler)
                try await events.log("py-greeter stopped")
            }
        }

        /// Every example of `photons/` (the HTTP service takes 127.0.0.1:8123, as its manifest says).
        @Test func examplePhotonsFolderLoadsEveryExample() async throws {
            try await withLoader { loader, _ in
                let handlers = try await loader.loadPhotons(in: Paths.join(BuildProducts.repository, "photons"))
                #expect(Set(handlers.map(\.name)) == ["http-service", "py-counter", "py-greeter", "swift-counter", "swift-greeter", "ticker"])
                #expect(handlers.first { $0.name == "swift-counter" }?.pid == handlers.first { $0.name == "swift-greeter" }?.pid)
                for handler in handlers { try await handler.start() }
                let swift = try #require(handlers.first { $0.name == "swift-greeter" })
                #expect(try await swift.call("greet", params: ["who": "Grace"]) == ["greeting": "Hello, Grace!"])
                #expect(swift.filePath.hasSuffix("photons/swift-greeter"))
                #expect(try await loader.call("swift-counter", "increment", params: ["by": 2]) == 2)
                #expect(try await loader.call("py-counter", "increment", params: ["by": 3]) == 3)
                #expect(try await loader.call("py-counter", "increment") == 4)
                // Photons call each other through the host, both ways.
                #expect(try await loader.call("swift-counter", "compare") == ["swift-counter": 2, "py-counter": 4])
                #expect(try await loader.call("py-counter", "greeting") == ["greeting": "Hello, py-counter!"])
                // Streamed results, from each runtime.
                var parts: [JSONValue] = []
                for try await part in try await loader.stream("swift-greeter", "count-to", params: ["n": 4], window: 2) { parts.append(part) }
                for try await part in try await loader.stream("py-greeter", "spell", params: ["word": "ok"], window: 1) { parts.append(part) }
                #expect(parts == [1, 2, 3, 4, "o", "k"])
                #expect(try await loader.call("swift-greeter", "count-to", params: ["n": 2]) == [1, 2])
                let web = try #require(handlers.first { $0.name == "http-service" })
                #expect(try await offThePool { try SocketClient.get(.tcp(port: 8123), timeout: testDeadline) } == "hello from pid \(web.pid)\n")
            }
        }

        @Test func severalPhotonsInOneWorkerAndOtherClasses() async throws {
            try await withLoader { loader, folder in
                let path = folder.chaos("multi", mode: "multi", photon: "m")
                let handlers = try await loader.loadPhoton(at: path, otherClasses: ["m-other"])
                #expect(handlers.map(\.name).sorted() == ["m-a", "m-b", "m-other"])
                #expect(Set(handlers.map(\.pid)).count == 1)
                let outcome = try await loader.unloadPhoton("m-b")
                #expect(outcome.photons.sorted() == ["m-a", "m-b", "m-other"])
                #expect(await loader.photons.isEmpty)
                #expect(handlers.allSatisfy { $0.state == .stopped })
            }
        }

        @Test func baseSelectsPhotonsByKind() async throws {
            try await withLoader { loader, folder in
                let path = folder.chaos("multi", mode: "multi", photon: "m")
                let handlers = try await loader.loadPhoton(at: path, base: "Other")
                #expect(handlers.map(\.name) == ["m-other"])
            }
        }

        @Test func loadingAnAlreadyLoadedFileReturnsNothingNew() async throws {
            try await withLoader { loader, folder in
                let path = folder.chaos("alpha")
                let first = try await loader.loadPhoton(at: path)
                let again = try await loader.loadPhoton(at: path)
                #expect(first.count == 1)
                #expect(again.isEmpty)
                #expect(await loader.photons.count == 1)
            }
        }

        @Test func folderScanFollowsTheSeedsRules() async throws {
            try await withLoader { loader, folder in
                folder.chaos("a")
                folder.chaos("nested/b")
                folder.chaos(".hidden")
                folder.chaos("a.swp")
                folder.write("README.md", "not a photon")
                folder.write("pkg/photon.json", #"{"exec": "run", "args": ["serve", "pkg"]}"#)
                folder.script("pkg/run", "exec '\(BuildProducts.chaosPhoton)' \"$@\"")
                let flat = try await loader.loadPhotons(in: folder.path)
                #expect(flat.map(\.name).sorted() == ["a", "pkg"])
                let deep = try await loader.loadPhotons(in: folder.path, recursive: true)
                #expect(deep.map(\.name) == ["b"])
                let package = try #require(await loader.photons["pkg"])
                #expect(package.filePath == Paths.join(folder.path, "pkg"))
            }
        }

        @Test func loadPhotonRecursiveOnAPlainFolderLoadsItsPhotons() async throws {
            try await withLoader { loader, folder in
                folder.chaos("x/one")
                folder.chaos("x/y/two")
                let handlers = try await loader.loadPhoton(at: Paths.join(folder.path, "x"), recursive: true)
                #expect(handlers.map(\.name) == ["one", "two"])
            }
        }
    }
}
