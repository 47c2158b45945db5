#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Synchronization
import Testing

extension Supervisor {
    /// Photons call back (PROTOCOL.md §3.4): host functions the host application registers, the
    /// built-in `config`, and photon-to-photon calls through the host, with their chains'
    /// deadlines, cancellation, cycles and depth.
    @Suite struct HostCalls {
        /// Loads and starts the chaos photons `names`, each a package with `manifest` members.
        static func photons(_ loader: Loader, _ folder: PhotonFolder, _ names: [String], manifest: String = "") async throws -> [Handler] {
            var handlers: [Handler] = []
            for name in names {
                let handler = try #require(try await loader.loadPhoton(at: folder.package(name, arguments: ["serve", name], manifest: manifest)).first)
                try await handler.start()
                handlers.append(handler)
            }
            return handlers
        }

        /// The error reply a call ended with.
        static func reply(_ body: () async throws(LoaderError) -> JSONValue) async throws -> ReplyError {
            let error = try await #require(throws: LoaderError.self) { try await body() }
            return try #require(error.reply, "\(error)")
        }

        @Test func aPhotonCallsTheHostsFunctionsWithItsIdentity() async throws {
            try await withLoader { loader, folder in
                loader.registerHostFunction("double") { params, _ in .int((params.intValue ?? 0) * 2) }
                loader.registerHostFunction("whoami") { _, caller in
                    ["photon": .string(caller.photon), "file": .string(caller.file), "pid": .int(Int64(caller.pid)),
                     "generation": .int(Int64(caller.generation)), "chain": .array(caller.chain.map(JSONValue.string))]
                }
                loader.registerHostFunction("refuse") { _, _ in throw ReplyError(.invalidParams, "not like that", data: ["hint": "twice"]) }
                struct Broken: Error {}
                loader.registerHostFunction("break") { _, _ in throw Broken() }
                let a = try await Self.photons(loader, folder, ["a"])[0]
                #expect(try await a.call("host", params: ["function": "double", "params": 21]) == 42)
                #expect(try await a.call("host", params: ["function": "whoami"]) ==
                        ["photon": "a", "file": .string(a.filePath), "pid": .int(Int64(a.pid)), "generation": 1, "chain": ["a"]])
                #expect(try await Self.reply { () async throws(LoaderError) in try await a.call("host", params: ["function": "refuse"]) }
                        == ReplyError(.invalidParams, "not like that", data: ["hint": "twice"]))
                let broken = try await Self.reply { () async throws(LoaderError) in try await a.call("host", params: ["function": "break"]) }
                #expect(broken.code == "host_error" && broken.message.contains("'break' failed"))
                let unknown = try await Self.reply { () async throws(LoaderError) in try await a.call("host", params: ["function": "nope"]) }
                #expect(unknown.code == "unknown_function" && unknown.message.contains("'nope'") && unknown.message.contains("call, config"))
                loader.unregisterHostFunction("double")
                #expect(try await Self.reply { () async throws(LoaderError) in try await a.call("host", params: ["function": "double"]) }.code == "unknown_function")
                #expect(a.state == .started && a.pendingRequests == 0)
            }
        }

        @Test func configIsTheCallingPhotonsManifestConfig() async throws {
            try await withLoader { loader, folder in
                let configured = try await Self.photons(loader, folder, ["c"], manifest: #""config": {"greeting": "hi", "n": 1.0}"#)[0]
                let plain = try await Self.photons(loader, folder, ["p"])[0]
                #expect(try await configured.call("host", params: ["function": "config"]) == ["greeting": "hi", "n": .double(1.0)])
                #expect(try await plain.call("host", params: ["function": "config"]) == .null)
            }
        }

        @Test func aConfigLargerThanTheWorkersFrameCapIsAnErrorNamingIt() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.frameCap = 4096
            try await withLoader(configuration: configuration) { loader, folder in
                let big = String(repeating: "x", count: 8000)
                let photon = try await Self.photons(loader, folder, ["big"], manifest: #""config": "\#(big)""#)[0]
                let refused = try await Self.reply { () async throws(LoaderError) in try await photon.call("host", params: ["function": "config"]) }
                #expect(refused.code == "host_error" && refused.message.contains("('config')") && refused.message.contains("frame cap of 4096"), "\(refused)")
                #expect(try await photon.call("echo", params: 1) == 1)
            }
        }

        @Test func aPhotonCallsAnotherThroughTheHost() async throws {
            try await withLoader { loader, folder in
                let (a, b) = try await { let h = try await Self.photons(loader, folder, ["a", "b"]); return (h[0], h[1]) }()
                #expect(try await a.call("call", params: ["photon": "b", "method": "echo", "params": ["x": 1.5]]) == ["x": 1.5])
                // The called photon's error reply reaches the caller's caller as it was.
                #expect(try await Self.reply { () async throws(LoaderError) in try await a.call("call", params: ["photon": "b", "method": "fail"]) }
                        == ReplyError(.photonError, "asked to fail", data: ["why": "test"]))
                let missing = try await Self.reply { () async throws(LoaderError) in try await a.call("call", params: ["photon": "z", "method": "echo"]) }
                #expect(missing.code == "unknown_photon" && missing.message.contains("photon z"))
                let bad = try await Self.reply { () async throws(LoaderError) in try await a.call("host", params: ["function": "call", "params": "b"]) }
                #expect(bad.code == "invalid_params")
                try await loader.stopPhoton("b")
                let stopped = try await Self.reply { () async throws(LoaderError) in try await a.call("call", params: ["photon": "b", "method": "echo"]) }
                #expect(stopped.code == "unavailable" && stopped.data?["code"] == "unloaded" && stopped.message.contains("it is stopped"))
                #expect(b.state == .stopped && a.state == .started)
            }
        }

        @Test func aCycleFailsWithItsOwnCodeInsteadOfDeadlocking() async throws {
            try await withLoader { loader, folder in
                let (a, _) = try await { let h = try await Self.photons(loader, folder, ["a", "b"]); return (h[0], h[1]) }()
                // a → b → a: refused at b's call, whatever the threads.
                let cycle = try await Self.reply { () async throws(LoaderError) in
                    try await a.call("call", params: ["photon": "b", "method": "call", "params": ["photon": "a", "method": "echo"]])
                }
                #expect(cycle.code == "call_cycle" && cycle.message.contains("a → b"))
                let itself = try await Self.reply { () async throws(LoaderError) in try await a.call("call", params: ["photon": "a", "method": "echo"]) }
                #expect(itself.code == "call_cycle")
            }
        }

        @Test func aChainLongerThanTheBoundFailsWithItsOwnCode() async throws {
            try await withLoader { loader, folder in
                let names = (1...Loader.longestCallChain + 1).map { "p\($0)" }
                let handlers = try await Self.photons(loader, folder, names)
                // p1 → p2 → … → p9's echo: the last step would make the chain 9 photons long.
                func nested(from index: Int, through last: Int) -> JSONValue {
                    index == last ? ["photon": .string(names[index]), "method": "echo", "params": "end"]
                        : ["photon": .string(names[index]), "method": "call", "params": nested(from: index + 1, through: last)]
                }
                #expect(try await handlers[0].call("call", params: nested(from: 1, through: names.count - 2)) == "end")
                let deep = try await Self.reply { () async throws(LoaderError) in try await handlers[0].call("call", params: nested(from: 1, through: names.count - 1)) }
                #expect(deep.code == "chain_too_deep" && deep.message.contains("holds \(Loader.longestCallChain) photons"))
            }
        }

        @Test func mayCallAndTheHostNarrowWhoIsCalled() async throws {
            var configuration = LoaderConfiguration.fast
            configuration.mayCall = { caller, photon in !(caller.photon == "open" && photon == "secret") }
            try await withLoader(configuration: configuration) { loader, folder in
                let narrowed = try await Self.photons(loader, folder, ["narrow"], manifest: #""may_call": ["open"]"#)[0]
                let open = try await Self.photons(loader, folder, ["open", "secret"])[0]
                #expect(try await narrowed.call("call", params: ["photon": "open", "method": "echo", "params": 1]) == 1)
                let refused = try await Self.reply { () async throws(LoaderError) in try await narrowed.call("call", params: ["photon": "secret", "method": "echo"]) }
                #expect(refused.code == "not_allowed" && refused.message.contains("may_call"))
                let hostRefused = try await Self.reply { () async throws(LoaderError) in try await open.call("call", params: ["photon": "secret", "method": "echo"]) }
                #expect(hostRefused.code == "not_allowed" && hostRefused.message.contains("the host does not allow it"))
            }
        }

        @Test func aManifestWithABadMayCallFailsToLoadNamingIt() async throws {
            try await withLoader { loader, folder in
                for keys in [#""may_call": "b""#, #""may_call": [1]"#, #""may_call": ["bad name"]"#] {
                    let path = folder.package("m", arguments: ["serve", "m"], manifest: keys)
                    let error = try await #require(throws: LoaderError.self) { try await loader.loadPhoton(at: path) }
                    #expect(error.code == .invalidManifest && error.message.contains("'may_call'"), "\(keys): \(error)")
                }
            }
        }

        @Test func givingUpOnTheOuterCallCancelsTheInnerOnes() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let cancelled = Mutex(false)
                loader.registerHostFunction("hang") { _, _ in
                    do {
                        try await Task.sleep(for: .seconds(3600))
                    } catch {
                        cancelled.withLock { $0 = true }
                        throw error
                    }
                    return nil
                }
                let (a, _) = try await { let h = try await Self.photons(loader, folder, ["a", "b"]); return (h[0], h[1]) }()
                // The outer call's deadline reaches b's method through a, which the host cancels.
                let timedOut = try await #require(throws: LoaderError.self) {
                    try await a.call("call", params: ["photon": "b", "method": "await-cancel"], timeout: .milliseconds(300))
                }
                #expect(timedOut.code == .timeout)
                try await events.photonEvent("observed")
                // A host function's task is cancelled with the request it was made within.
                let hung = try await #require(throws: LoaderError.self) {
                    try await a.call("host", params: ["function": "hang"], timeout: .milliseconds(100))
                }
                #expect(hung.code == .timeout)
                try await waitUntil("the host function is cancelled") { cancelled.withLock { $0 } }
                #expect(try await a.call("call", params: ["photon": "b", "method": "echo", "params": 2]) == 2)
            }
        }

        @Test func theInnerCallGetsTheOuterCallsDeadline() async throws {
            try await withLoader { loader, folder in
                let (a, _) = try await { let h = try await Self.photons(loader, folder, ["a", "b"]); return (h[0], h[1]) }()
                let left = try await a.call("call", params: ["photon": "b", "method": "deadline"], timeout: .seconds(30))
                let milliseconds = try #require(left.intValue)
                #expect(milliseconds > 0 && milliseconds <= 30_000)
                let late = try await Self.reply { () async throws(LoaderError) in
                    try await a.call("call", params: ["photon": "b", "method": "sleep", "params": ["ms": 5000], "timeout": 0.2], timeout: .seconds(30))
                }
                #expect(late.code == "deadline_exceeded" && late.data?["code"] == "timeout")
            }
        }

        @Test func hostCallsThatBreakTheRulesAreFaults() async throws {
            for (json, reason) in [
                (#"{"type":"host_call","id":1,"photon":"ghost","function":"config"}"#, "names photon 'ghost'"),
                (#"{"type":"host_call","id":0,"photon":"v","function":"config"}"#, "member 'id'"),
                (#"{"type":"host_call","id":1,"photon":"v"}"#, "member 'function'"),
            ] {
                try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                    let bystander = try await Self.photons(loader, folder, ["bystander"])[0]
                    let victim = try await Self.photons(loader, folder, ["v"])[0]
                    let frame = Frame.encode(Array(json.utf8))
                    let error = try await #require(throws: LoaderError.self) {
                        try await victim.call("raw", params: ["hex": .string(frame.map { String($0, radix: 16).leftPadded(to: 2) }.joined())])
                    }
                    #expect(error.code == .protocolFault && error.message.contains(reason), "\(json): \(error)")
                    #expect(try await bystander.call("echo", params: 1) == 1)
                }
            }
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

extension Supervisor {
    /// The Python runtime's host calls: `ctx.host.call` and `ctx.call`, waited for in sync
    /// handlers and awaited in `async def` ones.
    @Suite struct PythonHostCalls {
        static let source = """
            import asyncio
            py = Photon('py')
            seen = {}
            @py.on_start
            def begin(ctx):
                seen['config'] = ctx.host.call('config')
            @py.method()
            def started_with(params, ctx):
                return seen['config']
            @py.method()
            def host(params, ctx):
                return ctx.host.call(params['function'], params.get('params'))
            @py.method()
            async def host_async(params, ctx):
                return await ctx.host.call(params['function'], params.get('params'))
            @py.method()
            def call(params, ctx):
                return ctx.call(params['photon'], params['method'], params.get('params'))
            @py.method()
            async def call_async(params, ctx):
                return await ctx.call(params['photon'], params['method'], params.get('params'))
            @py.method()
            def fails(params, ctx):
                try:
                    ctx.call('nobody', 'echo')
                except PhotonError as error:
                    return [error.code, error.message]
            @py.method()
            async def abandon(params, ctx):
                try:
                    await ctx.host.call('hang', timeout=0.05)
                except PhotonError as error:
                    return error.code
            @py.method()
            def abandon_sync(params, ctx):
                try:
                    ctx.host.call('hang', timeout=0.05)
                except PhotonError as error:
                    return error.code
            run(py)
            """

        @Test func pythonCallsTheHostAndOtherPhotonsFromSyncAndAsyncHandlers() async throws {
            try await withLoader { loader, folder in
                let cancelled = Mutex(0)
                loader.registerHostFunction("add") { params, caller in
                    .int((params["a"]?.intValue ?? 0) + (params["b"]?.intValue ?? 0) + (caller.photon == "py" ? 0 : 1000))
                }
                loader.registerHostFunction("hang") { _, _ in
                    do { try await Task.sleep(for: .seconds(3600)) } catch { cancelled.withLock { $0 += 1 }; throw error }
                    return nil
                }
                folder.write("py/photon.json", #"{"exec": "py.py", "config": {"mode": "test"}}"#)
                let path = folder.python("py/py.py", Self.source)
                let py = try #require(try await loader.loadPhoton(at: Paths.parent(path), base: nil).first)
                try await py.start()
                let echo = try await HostCalls.photons(loader, folder, ["echoer"])[0]
                #expect(try await py.call("started_with") == ["mode": "test"])
                #expect(try await py.call("host", params: ["function": "add", "params": ["a": 1, "b": 2]]) == 3)
                #expect(try await py.call("host_async", params: ["function": "add", "params": ["a": 2, "b": 2]]) == 4)
                #expect(try await py.call("call", params: ["photon": "echoer", "method": "echo", "params": [1, 2]]) == [1, 2])
                #expect(try await py.call("call_async", params: ["photon": "echoer", "method": "echo", "params": "x"]) == "x")
                // A Swift photon calls the Python one through the host, and back is a cycle.
                #expect(try await echo.call("call", params: ["photon": "py", "method": "host", "params": ["function": "add", "params": ["a": 5]]]) == 5)
                let cycle = try await HostCalls.reply { () async throws(LoaderError) in
                    try await echo.call("call", params: ["photon": "py", "method": "call", "params": ["photon": "echoer", "method": "echo"]])
                }
                #expect(cycle.code == "call_cycle")
                let failed = try await py.call("fails")
                #expect(failed.arrayValue?.first == "unknown_photon")
                // A host call the photon gives up on (its own timeout) is cancelled in the host.
                #expect(try await py.call("abandon") == "deadline_exceeded")
                #expect(try await py.call("abandon_sync") == "deadline_exceeded")
                try await waitUntil("both hung host functions cancelled") { cancelled.withLock { $0 } == 2 }
                #expect(py.state == .started && py.pendingRequests == 0)
            }
        }

        @Test(arguments: ["host_call", "host_cancel"])
        func aWorkerThatDidNotDeclareHostCallsIsFaultedForOne(type: String) async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.python("old.py", """
                    import luminal_photon._worker
                    luminal_photon._worker.FEATURES = ('cancel', 'deadline')    # a runtime of before these features
                    old = Photon('old')
                    @old.method()
                    def sneak(params, ctx):
                        ctx._worker.write(ctx._worker.encode({'type': params, 'id': 1, 'photon': 'old', 'function': 'config'}))
                        return 'sent'
                    run(old)
                    """), base: nil).first)
                try await handler.start()
                let error = try await #require(throws: LoaderError.self) { try await handler.call("sneak", params: .string(type), timeout: .seconds(30)) }
                #expect(error.code == .protocolFault && error.message.contains("\(type) from a worker that did not declare the host_calls feature"), "\(error)")
            }
        }

        @Test func syncMethodsWaitingOnPhotonsOfTheirOwnWorkerNeverHoldEveryThread() async throws {
            try await withLoader { loader, folder in
                let handlers = try await loader.loadPhoton(at: folder.python("duo.py", """
                    import threading
                    dx, dy = Photon('dx'), Photon('dy')
                    everyone = threading.Barrier(8)
                    @dx.method()
                    def relay(params, ctx):
                        everyone.wait()            # 8 at a time hold every thread, then call dy
                        return ctx.call('dy', 'echo', params)
                    @dy.method()
                    def echo(params, ctx):
                        return params
                    run(dx, dy)
                    """), base: nil)
                for handler in handlers { try await handler.start() }
                let dx = try #require(handlers.first { $0.name == "dx" })
                // 16 relays on 8 threads: the second 8, and every echo, run on threads lent by
                // methods waiting for their host calls.
                let results = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                    for index in 0..<16 { group.addTask { try await dx.call("relay", params: .int(Int64(index)), timeout: .seconds(600)) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(Set(results.compactMap(\.intValue)) == Set(0..<16))
            }
        }

        @Test func aStartRoutineCallingAPhotonStillStartingWaitsForIt() async throws {
            try await withLoader { loader, folder in
                folder.python("slow.py", """
                    import time
                    slow = Photon('slow')
                    @slow.on_start
                    def begin(ctx):
                        time.sleep(0.3)
                    @slow.method()
                    def echo(params, ctx):
                        return params
                    run(slow)
                    """)
                folder.python("eager.py", """
                    eager = Photon('eager')
                    seen = []
                    @eager.on_start
                    def begin(ctx):
                        seen.append(ctx.call('slow', 'echo', 'ready'))
                    @eager.method()
                    def saw(params, ctx):
                        return seen
                    run(eager)
                    """)
                let loaded = try await loader.loadPhotons(in: folder.path, base: nil)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for handler in loaded { group.addTask { try await handler.start() } }
                    try await group.waitForAll()
                }
                #expect(try await loader.call("eager", "saw") == ["ready"])
            }
        }

        @Test func hostCallsPastTheLimitInFlightAreAnsweredOverloaded() async throws {
            try await withLoader { loader, folder in
                loader.registerHostFunction("hang") { _, _ in try await Task.sleep(for: .seconds(3600)); return nil }
                let handler = try #require(try await loader.loadPhoton(at: folder.python("flood.py", """
                    import asyncio
                    flood = Photon('flood')
                    @flood.method()
                    async def calls(params, ctx):
                        async def one():
                            try:
                                await ctx.host.call('hang')
                            except PhotonError as error:
                                return error.code
                        refused = 0
                        for done in asyncio.as_completed([asyncio.ensure_future(one()) for _ in range(params)]):
                            if await done == 'overloaded':
                                refused += 1
                                if refused == params - 4096:
                                    return refused
                    run(flood)
                    """), base: nil).first)
                try await handler.start()
                #expect(try await handler.call("calls", params: 5000, timeout: .seconds(600)) == .int(Int64(5000 - Worker.hostCallsInFlight)))
                let bystander = try await HostCalls.photons(loader, folder, ["bystander"])[0]
                #expect(try await bystander.call("echo", params: 1) == 1)
                #expect(handler.state == .started)
            }
        }

        @Test func aSecondHostCallWithAnIDInFlightIsAFault() async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                loader.registerHostFunction("hang") { _, _ in try await Task.sleep(for: .seconds(3600)); return nil }
                let handler = try #require(try await loader.loadPhoton(at: folder.python("twice.py", """
                    twice = Photon('twice')
                    @twice.method()
                    def twice_(params, ctx):
                        frame = ctx._worker.encode({'type': 'host_call', 'id': 7, 'photon': 'twice', 'function': 'hang'})
                        ctx._worker.write(frame + frame)
                        return 'sent'
                    run(twice)
                    """), base: nil).first)
                try await handler.start()
                let error = try await #require(throws: LoaderError.self) { try await handler.call("twice_", timeout: .seconds(30)) }
                #expect(error.code == .protocolFault && error.message.contains("host_call id 7 is already in flight"), "\(error)")
            }
        }
    }
}
