#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalSystem
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// The Python runtime runs `async def` handlers on an asyncio loop of its own: they wait
    /// without taking a thread, a cancel reaches them as `CancelledError`, and a coroutine that
    /// holds the loop is named in a warning while pings and other calls are answered.
    @Suite struct PythonAsync {
        /// A photon whose handlers are coroutines, and one plain method.
        static let source = """
            import asyncio, functools, time
            a = Photon('a')
            arrived = 0
            everyone = None
            @a.on_start
            async def begin(ctx):
                global everyone
                everyone = asyncio.Event()
                await asyncio.sleep(0)
                print('a started on the loop')
            @a.on_stop
            async def end(ctx):
                await asyncio.sleep(0)
                print('a stopped on the loop')
            @a.method()
            async def gather(params, ctx):
                # Returns once `params` calls are waiting here together: more than the 8 threads.
                global arrived
                arrived += 1
                if arrived == params:
                    everyone.set()
                await everyone.wait()
                return arrived
            @a.method()
            async def wait(params, ctx):
                print('a waiting')
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    print('a observed the cancel')
                    raise
            @a.method()
            async def fail(params, ctx):
                await asyncio.sleep(0)
                raise PhotonError('invalid_params', 'no, thank you')
            def wrapped(fn):
                @functools.wraps(fn)
                def call(params, ctx):
                    return fn(params, ctx)
                return call
            @a.method()
            @wrapped
            async def decorated(params, ctx):
                await asyncio.sleep(0)
                return params
            a.method('wait_decorated')(wrapped(wait))
            @a.method()
            async def leave(params, ctx):
                async def exit_now():
                    raise SystemExit(3)
                global leaving
                leaving = asyncio.get_running_loop().create_task(exit_now())
                return 'leaving'
            @a.method()
            async def stall(params, ctx):
                print('a stalls')
                time.sleep(params)
                return 'stalled'
            @a.method()
            async def halt(params, ctx):
                asyncio.get_running_loop().stop()
                return 'halted'
            @a.method()
            def plain(params, ctx):
                return 'plain'
            run(a)
            """

        @Test func asyncHandlersWaitTogetherWithoutAThreadEach() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.python("a.py", Self.source), base: nil).first)
                try await handler.start()
                try await events.log("a started on the loop")
                let waiting = 20
                let counts = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                    for _ in 0..<waiting { group.addTask { try await handler.call("gather", params: .int(Int64(waiting)), timeout: .seconds(600)) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(counts == Array(repeating: .int(Int64(waiting)), count: waiting))
                let refused = try await #require(throws: LoaderError.self) { try await handler.call("fail") }
                #expect(refused.reply?.code == "invalid_params" && refused.reply?.message == "no, thank you")
                #expect(try await handler.call("decorated", params: "through a plain function") == "through a plain function")
                try await loader.stopPhoton("a")
                try await events.log("a stopped on the loop")
            }
        }

        /// Importing asyncio takes tens of milliseconds: the runtime does it only when an async
        /// handler first runs, not when every Python photon starts.
        @Test func asyncioIsImportedOnlyWhenAnAsyncHandlerRuns() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.python("l.py", """
                    import sys
                    l = Photon('l')
                    @l.method()
                    def imported(params, ctx):
                        return 'asyncio' in sys.modules
                    @l.method()
                    async def wait(params, ctx):
                        return 'awaited'
                    run(l)
                    """), base: nil).first)
                try await handler.start()
                #expect(try await handler.call("imported") == false)
                #expect(try await handler.call("wait") == "awaited")
                #expect(try await handler.call("imported") == true)
            }
        }

        /// A cancel reaches an async method at its await, as `CancelledError`, and the coroutine a
        /// plain function (a decorator's wrapper) returns as well: it runs on the loop too.
        @Test(arguments: ["wait", "wait_decorated"])
        func aCancelReachesAnAsyncMethodAsCancelledError(method: String) async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.python("a.py", Self.source), base: nil).first)
                try await handler.start()
                let call = Task { await outcome { () async throws(LoaderError) in try await handler.call(method, timeout: .seconds(3600)) } }
                try await events.log("a waiting")
                call.cancel()
                let error = try #require(await call.value.failure, "the call returned")
                #expect(error.code == .cancelled)
                try await events.log("a observed the cancel")
            }
        }

        /// The loop goes on serving after a handler stopped it, and after a task of the photon's
        /// own raised SystemExit (asyncio lets it out of the loop); the runtime says so.
        @Test func theLoopRunsOnWhateverStopsIt() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.python("a.py", Self.source), base: nil).first)
                try await handler.start()
                #expect(try await handler.call("halt") == "halted")
                try await events.log("a handler stopped the asyncio loop")
                #expect(try await handler.call("decorated", params: 1) == 1)
                #expect(try await handler.call("leave") == "leaving")
                try await events.log("raised SystemExit on the asyncio loop")
                #expect(try await handler.call("decorated", params: 2) == 2)
            }
        }

        /// An event loop policy the photon installs (uvloop's, say) makes the runtime's loop.
        @Test func thePhotonsEventLoopPolicyMakesTheLoop() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.python("p.py", """
                    import asyncio
                    class Traced(asyncio.SelectorEventLoop):
                        pass
                    class Policy(asyncio.DefaultEventLoopPolicy):
                        def new_event_loop(self):
                            return Traced()
                    asyncio.set_event_loop_policy(Policy())
                    p = Photon('p')
                    @p.method()
                    async def kind(params, ctx):
                        return type(asyncio.get_running_loop()).__name__
                    run(p)
                    """), base: nil).first)
                try await handler.start()
                #expect(try await handler.call("kind") == "Traced")
            }
        }

        /// A photon whose async methods hold the loop's attention (`hold` until `release`) or the
        /// loop itself (`stall` until the plain `resume`), for a host speaking raw frames.
        static let holder = """
            import asyncio, threading
            p = Photon('p')
            released = None
            resumed = threading.Event()
            @p.method()
            async def hold(params, ctx):
                global released
                released = released or asyncio.Event()
                await released.wait()
                return 'held'
            @p.method()
            async def release(params, ctx):
                global released
                released.set()
                released = None                          # the next hold waits again
                return 'released'
            @p.method()
            async def stall(params, ctx):
                resumed.wait()
                return 'stalled'
            @p.method()
            def resume(params, ctx):
                resumed.set()
                return 'resumed'
            @p.method()
            def echo(params, ctx):
                return params
            @p.method()
            async def purge(params, ctx):
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.cancel()
                return 'purged'
            run(p)
            """

        /// While async methods run, the loop itself reads fd 3; the main thread reads again when
        /// they are done or the loop stalls. Either way frames split across reads, plain calls and
        /// pings are served, and an end of file (even inside a frame) ends the worker with 0.
        @Test func theLoopReadsWhileAsyncMethodsRunAndHandsTheReadingBack() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(folder.python("p.py", Self.holder), in: folder.path)
            func call(_ id: Int64, _ method: String, _ params: JSONValue = .null) -> JSONValue {
                ["type": "call", "id": .int(id), "photon": "p", "method": .string(method), "params": params]
            }
            func values(_ count: Int) throws -> [Int64: JSONValue] {
                try Dictionary(uniqueKeysWithValues: (0..<count).map { _ in
                    let reply = try worker.receive()
                    return (reply["id"]?.intValue ?? 0, reply["value"] ?? .null)
                })
            }
            #expect(try worker.request(["type": "start", "id": 1, "photon": "p"])["type"] == "result")
            worker.send(call(2, "hold"))
            let ping = Frame.encode(["type": "ping", "id": 3])
            worker.send(bytes: Array(ping.prefix(5)))
            worker.send(bytes: Array(ping.dropFirst(5)))
            #expect(try worker.receive() == ["type": "pong", "id": 3])
            #expect(try worker.request(call(4, "echo", "plain")) == ["type": "result", "id": 4, "value": "plain"])
            worker.send(call(5, "release"))
            #expect(try values(2) == [2: "held", 5: "released"])
            #expect(try worker.request(["type": "ping", "id": 6]) == ["type": "pong", "id": 6])
            // A coroutine blocking the loop: the main thread takes the reading back.
            worker.send(call(7, "stall"))
            #expect(try worker.request(["type": "ping", "id": 8]) == ["type": "pong", "id": 8])
            worker.send(call(9, "resume"))
            #expect(try values(2) == [7: "stalled", 9: "resumed"])
            worker.send(call(10, "hold"))
            #expect(try worker.request(["type": "ping", "id": 11]) == ["type": "pong", "id": 11])
            worker.send(bytes: Array(ping.prefix(6)))
            worker.closeInput()
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        /// A handler that cancels every task, the runtime's among them, before they began: their
        /// requests are answered `cancelled` all the same.
        @Test func requestsWhoseTasksWereCancelledBeforeTheyBeganAreAnswered() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(folder.python("p.py", Self.holder), in: folder.path)
            #expect(try worker.request(["type": "start", "id": 1, "photon": "p"])["type"] == "result")
            worker.send(together: [["type": "call", "id": 2, "photon": "p", "method": "purge"],
                                   ["type": "call", "id": 3, "photon": "p", "method": "hold"]])
            let replies = try [worker.receive(), worker.receive()]
            #expect(replies.contains(["type": "result", "id": 2, "value": "purged"]), "\(replies)")
            #expect(replies.contains { $0["id"] == 3 && $0["code"] == "cancelled" }, "\(replies)")
            #expect(try worker.request(["type": "ping", "id": 4]) == ["type": "pong", "id": 4])
            worker.send(["type": "shutdown"])
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        /// A fd 3 that epoll cannot watch (a regular file, a session replayed with `3<frames`): the
        /// main thread reads it all, async requests or not, to its end (exit 0).
        @Test func aFileAsFd3IsReadToItsEnd() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let photon = folder.python("p.py", """
                import asyncio
                p = Photon('p')
                @p.on_start
                async def begin(ctx):
                    await asyncio.sleep(3600)
                run(p)
                """)
            let pings = 200
            let frames: [JSONValue] = [["type": "start", "id": 1, "photon": "p"]] + (2..<(2 + pings)).map { ["type": "ping", "id": .int(Int64($0))] }
            let input = folder.write("in", bytes: frames.flatMap { Frame.encode($0) })
            let output = Paths.join(folder.path, "out")
            let run = try CommandProcess(["-c", #"exec python3 "$0" 3<"$1" 4>"$2""#, photon, input, output], program: "/bin/sh")
            #expect(try await run.finish() == .exited(code: 0), "\(run.lines)")
            var decoder = FrameDecoder()
            decoder.append(try Paths.read(output))
            var pongs = 0
            while let reply = try decoder.nextObject() {
                if reply["type"] == "pong" { pongs += 1 }
            }
            #expect(pongs == pings)
        }

        /// A frame the protocol forbids is a fault whoever reads it: exit 70.
        @Test func aBadFrameReadByTheLoopEndsTheWorkerWith70() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(folder.python("p.py", Self.holder), in: folder.path)
            #expect(try worker.request(["type": "start", "id": 1, "photon": "p"])["type"] == "result")
            worker.send(["type": "call", "id": 2, "photon": "p", "method": "hold"])
            #expect(try worker.request(["type": "ping", "id": 3]) == ["type": "pong", "id": 3])
            let duplicate = Array(#"{"type":"ping","id":4,"id":5}"#.utf8)
            worker.send(bytes: [0, 0, 0, UInt8(duplicate.count)] + duplicate)
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 70))
        }

        @Test func aCoroutineHoldingTheLoopIsNamedAndOtherCallsAreAnswered() async throws {
            try await withLoader { loader, folder in
                let events = EventLog(loader)
                let handler = try #require(try await loader.loadPhoton(at: folder.python("a.py", Self.source), base: nil).first)
                try await handler.start()
                let stall = Task { try await handler.call("stall", params: 4, timeout: .seconds(600)) }
                try await events.log("a stalls")
                let warning = try await events.log("held the asyncio loop")
                #expect(warning.text.contains("the task \"call 'stall' of a\"") && warning.stream == .stderr, "\(warning.text)")
                // A plain method runs on its thread while the loop is held.
                #expect(try await handler.call("plain") == "plain")
                #expect(try await stall.value == "stalled")
            }
        }
    }
}
