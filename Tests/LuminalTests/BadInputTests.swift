#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// Each bad input gets its own error naming the photon file and the cause, and a photon that
    /// was already running keeps answering.
    @Suite struct BadInput {
        /// Loads a sentinel photon, runs `body`, and checks the sentinel still answers afterwards.
        func withSentinel(configuration: LoaderConfiguration = .fast,
                          _ body: (Loader, PhotonFolder) async throws -> Void) async throws {
            try await withLoader(configuration: configuration) { loader, folder in
                let sentinel = try #require(try await loader.loadPhoton(at: folder.chaos("sentinel")).first)
                try await sentinel.start()
                try await body(loader, folder)
                #expect(try await sentinel.call("echo", params: "alive") == "alive")
                #expect(sentinel.state == .started)
            }
        }

        func loadError(_ loader: Loader, _ path: String) async throws -> LoaderError {
            try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
        }

        @Test func missingPath() async throws {
            try await withSentinel { loader, folder in
                let error = try await loadError(loader, Paths.join(folder.path, "ghost"))
                #expect(error.code == .photonNotFound)
                #expect(error.message.contains("ghost"))
                #expect(error.message.contains("does not exist"))
            }
        }

        @Test func folderWhereAFileIsExpected() async throws {
            try await withSentinel { loader, folder in
                folder.chaos("plain/one")
                let error = try await loadError(loader, Paths.join(folder.path, "plain"))
                #expect(error.code == .notAPhotonFile)
                #expect(error.message.contains("loadPhotons(in:)"))
            }
        }

        @Test func missingFolder() async throws {
            try await withSentinel { loader, folder in
                let error = try await #require(throws: LoaderError.self) {
                    try await loader.loadPhotons(in: Paths.join(folder.path, "nowhere"))
                }
                #expect(error.code == .directoryNotFound)
                #expect(error.message.contains("nowhere"))
            }
        }

        @Test func nonExecutableFile() async throws {
            try await withSentinel { loader, folder in
                let path = folder.script("lazy", "exit 0", executable: false)
                let error = try await loadError(loader, path)
                #expect(error.code == .notExecutable)
                #expect(error.message.contains("chmod +x"))
            }
        }

        @Test func executableThatExitsAtOnce() async throws {
            try await withSentinel { loader, folder in
                let error = try await loadError(loader, folder.chaos("quitter", mode: "exit-now"))
                #expect(error.code == .exitedBeforeHello)
                #expect(error.exit == .exited(code: 3))
                #expect(error.message.contains("quitter"))
                #expect(error.message.contains("chaos: exiting at once"))
            }
        }

        @Test func executableThatNeverSaysHello() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.handshakeTimeout = .milliseconds(500)
            try await withSentinel(configuration: configuration) { loader, folder in
                let path = folder.chaos("mute", mode: "no-hello")
                let error = try await loadError(loader, path)
                #expect(error.code == .handshakeTimeout)
                #expect(error.message.contains("mute"))
                #expect(await loader.photons["mute"] == nil)
            }
        }

        @Test func helloForTheWrongProtocolVersion() async throws {
            try await withSentinel { loader, folder in
                let error = try await loadError(loader, folder.chaos("future", mode: "wrong-version"))
                #expect(error.code == .protocolMismatch)
                #expect(error.message.contains("version 99"))
            }
        }

        @Test func noPhotonOfTheRequestedBase() async throws {
            try await withSentinel { loader, folder in
                let error = try await loadError(loader, folder.chaos("stranger", mode: "no-base"))
                #expect(error.code == .noPhotonOfBase)
                #expect(error.message.contains("stranger (kinds: Other)"))
                #expect(error.message.contains("'IPhoton'"))
            }
        }

        @Test func invalidPhotonName() async throws {
            try await withSentinel { loader, folder in
                let error = try await loadError(loader, folder.chaos("badname", mode: "bad-name"))
                #expect(error.code == .invalidHello)
                #expect(error.message.contains("bad name!"))
            }
        }

        @Test func duplicatePhotonNamesAcrossFiles() async throws {
            try await withSentinel { loader, folder in
                let copy = folder.chaos("copy", photon: "sentinel")
                let error = try await loadError(loader, copy)
                #expect(error.code == .duplicatePhotonName)
                #expect(error.message.contains(copy))
                #expect(error.message.contains(Paths.join(folder.path, "sentinel")))
            }
        }

        @Test func badManifests() async throws {
            try await withSentinel { loader, folder in
                folder.write("typo/photon.json", #"{"exec": "run", "arg": []}"#)
                folder.script("typo/run", "exit 0")
                let typo = try await loadError(loader, Paths.join(folder.path, "typo"))
                #expect(typo.code == .invalidManifest)
                #expect(typo.message.contains("'arg'"))
                #expect(typo.message.contains("photon.json"))

                folder.script("outside", "exit 0")
                folder.write("escape/photon.json", #"{"exec": "../outside"}"#)
                let escape = try await loadError(loader, Paths.join(folder.path, "escape"))
                #expect(escape.code == .invalidManifest)
                #expect(escape.message.contains("outside the package"))

                folder.write("linked/photon.json", #"{"exec": "run"}"#)
                symlink(Paths.join(folder.path, "outside"), Paths.join(folder.path, "linked/run"))
                let linked = try await loadError(loader, Paths.join(folder.path, "linked"))
                #expect(linked.code == .invalidManifest)
                #expect(linked.message.contains("outside the package"))

                folder.write("broken/photon.json", #"{"exec": "#)
                let broken = try await loadError(loader, Paths.join(folder.path, "broken"))
                #expect(broken.code == .invalidManifest)

                folder.script("watchlist/run", "exit 0")
                folder.write("watchlist/photon.json", #"{"exec": "run", "watch": "bin"}"#)
                let watchlist = try await loadError(loader, Paths.join(folder.path, "watchlist"))
                #expect(watchlist.message.contains("'watch' must be an array of strings"))

                folder.script("negative/run", "exit 0")
                folder.write("negative/photon.json", #"{"exec": "run", "timeouts": {"stop": -1}}"#)
                let negative = try await loadError(loader, Paths.join(folder.path, "negative"))
                #expect(negative.message.contains("timeouts.stop"))
            }
        }

        /// Manifest values the worker could not receive as written (an environment name with `=`,
        /// a NUL the C strings of exec would cut at) are refused, never changed on the way.
        static let valuesThatCannotBePassedOn: [(keys: String, key: String)] = [
            (#""env": {"A=B": "x"}"#, "env"),
            (#""env": {"": "x"}"#, "env"),
            (#""env": {"A\u0000B": "x"}"#, "env"),
            (#""env": {"A": "x\u0000y"}"#, "env 'A'"),
            (#""args": ["ok", "a\u0000b"]"#, "args' item 1"),
            (#""watch": ["run\u0000.bak"]"#, "watch' item 0"),
            (#""user": "root\u0000nobody""#, "user"),
            (#""group": "root\u0000""#, "group"),
        ]

        @Test(arguments: valuesThatCannotBePassedOn)
        func manifestValuesThatWouldBeAlteredAreRefused(keys: String, key: String) async throws {
            try await withSentinel { loader, folder in
                folder.script("altered/run", "exit 0")
                folder.write("altered/photon.json", #"{"exec": "run", \#(keys)}"#)
                let error = try await loadError(loader, Paths.join(folder.path, "altered"))
                #expect(error.code == .invalidManifest, "\(error)")
                #expect(error.message.contains(Paths.join(folder.path, "altered/photon.json")) && error.message.contains(key), "\(error.message)")
            }
        }

        @Test func anExecWithANULIsRefused() async throws {
            try await withSentinel { loader, folder in
                folder.script("cut/run", "exit 0")
                folder.write("cut/photon.json", #"{"exec": "run\u0000x"}"#)
                let error = try await loadError(loader, Paths.join(folder.path, "cut"))
                #expect(error.code == .invalidManifest && error.message.contains("'exec' must not contain a NUL"), "\(error.message)")
            }
        }

        @Test func aLoaderIdentityWithANULIsRefused() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.identity = PhotonIdentity(user: "root\0nobody")
            try await withLoader(configuration: configuration) { loader, folder in
                let error = try await loadError(loader, folder.chaos("cut"))
                #expect(error.message.contains("the loader's identity") && error.message.contains("NUL"), "\(error.message)")
            }
        }

        @Test func callsToUnknownPhotonsAndMethods() async throws {
            try await withSentinel { loader, _ in
                let handler = try #require(await loader.photons["sentinel"])
                let error = try await #require(throws: LoaderError.self) { try await handler.call("missing-method") }
                #expect(error.reply?.code == "unknown_method")
                let call = try await #require(throws: LoaderError.self) { try await loader.call("no-such-photon", "echo") }
                #expect(call.code == .photonNotFound)
                #expect(call.message.contains("'no-such-photon'"))
                #expect(try await loader.call("sentinel", "echo", params: 5) == 5)
                let unload = try await #require(throws: LoaderError.self) { try await loader.unloadPhoton("no-such-photon") }
                #expect(unload.code == .photonNotFound)
                #expect(unload.message.contains("sentinel"))
            }
        }

        @Test func batchLoadIsAllOrNothingUnlessErrorsAreSuppressed() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            folder.chaos("good")
            folder.chaos("worse", mode: "exit-now")
            let strict = Loader(configuration: .fast)
            let error = try await #require(throws: LoaderError.self) { try await strict.loadPhotons(in: folder.path) }
            #expect(error.message.contains("worse"))
            #expect(await strict.photons.isEmpty)

            let lenient = Loader(suppressErrors: true, configuration: .fast)
            let events = EventLog(lenient)
            let loaded = try await lenient.loadPhotons(in: folder.path)
            #expect(loaded.map(\.name) == ["good"])
            let failed = try await events.first("loadFailed event") { event in
                if case .loadFailed(let file, let error) = event { return (file, error.code) }
                return nil
            }
            #expect(failed.0.hasSuffix("worse"))
            #expect(failed.1 == .exitedBeforeHello)
            await lenient.unloadAll()
        }
    }
}
