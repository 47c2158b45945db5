#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// Streamed results (PROTOCOL.md §3.5): parts in order, then the final value; credit bounds
    /// what waits in the supervisor; dropping a stream cancels its call.
    @Suite struct Streams {
        /// Every element of `stream`, or its error after the elements before it.
        static func drain(_ stream: PhotonStream) async -> (elements: [JSONValue], error: LoaderError?) {
            var elements: [JSONValue] = []
            do throws(LoaderError) {
                for try await element in stream { elements.append(element) }
                return (elements, nil)
            } catch {
                return (elements, error)
            }
        }

        @Test func partsArriveInOrderThenTheFinalValue() async throws {
            try await withLoader { loader, folder in
                let handler = try await HostCalls.photons(loader, folder, ["s"])[0]
                let (elements, error) = await Self.drain(handler.stream("numbered-parts", params: ["count": 100], window: 4))
                #expect(error == nil)
                #expect(elements == (0..<100).map { JSONValue.int(Int64($0)) } + ["done"])
                let failed = await Self.drain(handler.stream("numbered-parts", params: ["count": 3, "fail": true], window: 2))
                #expect(failed.elements == [0, 1, 2])
                #expect(failed.error?.reply?.message == "failed after the parts")
                // A method that sends no parts: its result is the one element; a call is not streamed.
                #expect(await Self.drain(handler.stream("echo", params: ["x": 1])).elements == [["x": 1]])
                let refused = try await #require(throws: LoaderError.self) { try await handler.call("numbered-parts", params: ["count": 1]) }
                #expect(refused.reply?.code == "invalid_state" && refused.reply?.message.contains("not streamed") == true)
                #expect(handler.pendingRequests == 0)
            }
        }

        @Test func theSupervisorNeverHoldsMoreThanTheWindow() async throws {
            try await withLoader { loader, folder in
                let handler = try await HostCalls.photons(loader, folder, ["s"])[0]
                let stream = handler.stream("stream", params: ["count": 400, "bytes": 1000], window: 8)
                let parts = stream.call.parts
                var taken = 0
                var iterator = stream.makeAsyncIterator()
                while let element = try await iterator.next() {
                    #expect(parts.waiting <= 8)
                    if element.stringValue != nil { taken += 1 }
                }
                #expect(taken == 400)
            }
        }

        @Test func droppingAStreamCancelsItsCall() async throws {
            try await withLoader { loader, folder in
                let handler = try await HostCalls.photons(loader, folder, ["s"])[0]
                do {
                    var iterator = handler.stream("stream", params: ["count": 1_000_000, "bytes": 10], window: 4).makeAsyncIterator()
                    #expect(try await iterator.next() != nil)
                }
                try await waitUntil("the streamed call is cancelled and answered") { handler.pendingRequests == 0 }
                #expect(try await handler.call("echo", params: 5) == 5)
                // Cancelling the task that iterates gives the call up too.
                let consumer = Task { await Self.drain(handler.stream("stream", params: ["count": 1_000_000, "bytes": 10], window: 4)) }
                try await waitUntil("the stream runs") { handler.pendingRequests == 1 }
                consumer.cancel()
                let (_, error) = await consumer.value
                #expect(error?.code == .cancelled)
                try await waitUntil("the call is answered") { handler.pendingRequests == 0 }
            }
        }
    
        static let python = """
            import asyncio, luminal_photon
            py = Photon('py')
            @py.method()
            def count(params, ctx):
                for i in range(params):
                    ctx.send_part(i)
                return 'done' if ctx.streamed else 'whole'
            @py.method()
            async def count_async(params, ctx):
                for i in range(params):
                    await ctx.send_part(i)
                return None
            @py.method()
            def parallel(params, ctx):
                # 4 threads each send 50 parts [thread, index].
                import threading
                def send(t):
                    for k in range(50):
                        ctx.send_part([t, k])
                threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
                for thread in threads: thread.start()
                for thread in threads: thread.join()
                return 'done'
            @py.method()
            async def parallel_async(params, ctx):
                async def send(t):
                    for k in range(50):
                        await ctx.send_part([t, k])
                await asyncio.gather(*(send(t) for t in range(4)))
                return 'done'
            go, done, late_codes = __import__('threading').Event(), __import__('threading').Event(), []
            @py.method()
            def leak(params, ctx):
                # A thread sends a part once the call has been answered (the test says when).
                def later():
                    go.wait()
                    try:
                        ctx.send_part('late')
                    except PhotonError as error:
                        late_codes.append(error.code)
                    done.set()
                __import__('threading').Thread(target=later).start()
                ctx.send_part('first')
                return 'end'
            @py.method()
            def late(params, ctx):
                go.set()
                done.wait()
                return late_codes
            @py.method()
            def raw_late(params, ctx):
                # A raw part for this call, written once the call has been answered (on `late`).
                rid = ctx._rid
                def later():
                    go.wait()
                    ctx._worker.write(ctx._worker.encode({'type': 'part', 'id': rid, 'value': 'late'}))
                __import__('threading').Thread(target=later).start()
                return 'end'
            @py.method()
            def flood(params, ctx):
                # Parts beyond the credit, written raw.
                for i in range(params):
                    ctx._worker.write(ctx._worker.encode({'type': 'part', 'id': ctx._rid, 'value': i}))
                return None
            run(py)
            """

        @Test func pythonSendsPartsFromSyncAndAsyncMethods() async throws {
            try await withLoader { loader, folder in
                let py = try #require(try await loader.loadPhoton(at: folder.python("py.py", Self.python), base: nil).first)
                try await py.start()
                #expect(await Self.drain(py.stream("count", params: 50, window: 3)).elements == (0..<50).map { JSONValue.int(Int64($0)) } + ["done"])
                let drained = await Self.drain(py.stream("count_async", params: 50, window: 3))
                #expect(drained.elements == (0..<50).map { JSONValue.int(Int64($0)) }, "\(drained)")
                let refused = try await #require(throws: LoaderError.self) { try await py.call("count", params: 1) }
                #expect(refused.reply?.code == "invalid_state")
                #expect(try await py.call("count", params: 0) == "whole")
            }
        }

        @Test func severalSendersOfOneCallAllGetCredit() async throws {
            try await withLoader { loader, folder in
                let py = try #require(try await loader.loadPhoton(at: folder.python("py.py", Self.python), base: nil).first)
                try await py.start()
                let swift = try await HostCalls.photons(loader, folder, ["s"])[0]
                let expected = Set((0..<4).flatMap { sender in (0..<50).map { JSONValue.array([.int(Int64(sender)), .int(Int64($0))]) } })
                for (handler, method) in [(py, "parallel"), (py, "parallel_async"), (swift, "parallel-parts")] {
                    let (elements, error) = await Self.drain(handler.stream(method, params: ["senders": 4, "count": 50], window: 2, timeout: .seconds(600)))
                    #expect(error == nil && elements.last == "done", "\(method): \(String(describing: error))")
                    #expect(Set(elements.dropLast()) == expected && elements.count == 201, "\(method)")
                }
            }
        }

        @Test func aPartSentAfterTheCallWasAnsweredIsRefusedInTheWorker() async throws {
            try await withLoader { loader, folder in
                let py = try #require(try await loader.loadPhoton(at: folder.python("py.py", Self.python), base: nil).first)
                try await py.start()
                #expect(await Self.drain(py.stream("leak")).elements == ["first", "end"])
                #expect(try await py.call("late", timeout: .seconds(600)) == ["invalid_state"])
                let whole = try await py.call("count", params: 0)
                #expect(py.state == .started && whole == "whole")
            }
        }

        @Test func aPartAfterTheFinalReplyIsAFault() async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let py = try #require(try await loader.loadPhoton(at: folder.python("py.py", Self.python), base: nil).first)
                try await py.start()
                #expect(await Self.drain(py.stream("raw_late")).elements == ["end"])
                let error = try await #require(throws: LoaderError.self) { try await py.call("late", timeout: .seconds(600)) }
                #expect(error.code == .protocolFault && error.message.contains("not awaiting a reply"), "\(error)")
            }
        }

        @Test func partsBeyondTheCreditAreAFault() async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let py = try #require(try await loader.loadPhoton(at: folder.python("py.py", Self.python), base: nil).first)
                try await py.start()
                // Nothing is taken until the worker is faulted: no credit comes back meanwhile.
                let stream = py.stream("flood", params: 5, window: 4)
                try await waitUntil("the flooding worker is faulted") { if case .faulted = py.state { true } else { false } }
                let (elements, error) = await Self.drain(stream)
                #expect(elements == [0, 1, 2, 3])
                #expect(error?.code == .protocolFault && error?.message.contains("beyond the credit granted") == true, "\(String(describing: error))")
            }
        }

        @Test func aPartForACallThatIsNotStreamedIsAFault() async throws {
            try await withLoader(configuration: .fastWithoutRestarts) { loader, folder in
                let py = try #require(try await loader.loadPhoton(at: folder.python("py.py", Self.python), base: nil).first)
                try await py.start()
                let error = try await #require(throws: LoaderError.self) { try await py.call("flood", params: 1) }
                #expect(error.code == .protocolFault && error.message.contains("not a streamed call"), "\(error)")
            }
        }

        @Test func aWorkerThatDoesNotStreamAnswersWhole() async throws {
            try await withLoader { loader, folder in
                let py = try #require(try await loader.loadPhoton(at: folder.python("old.py", """
                    import luminal_photon._worker
                    luminal_photon._worker.FEATURES = ('cancel', 'deadline')    # a runtime of before these features

                    """ + Self.python), base: nil).first)
                try await py.start()
                #expect(await Self.drain(py.stream("count", params: 0)).elements == ["whole"])
            }
        }

        @Test func luminalCallStreamPrintsEachPartAsItArrives() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let text = try await supervisor.client("call", "first", "numbered-parts", #"{"count": 3}"#, "--stream")
            #expect(text.code == 0 && text.output == ["0", "1", "2", "done"])
            let json = try await supervisor.client("call", "first", "numbered-parts", #"{"count": 2}"#, "--stream", "--json")
            #expect(json.code == 0 && json.output == ["0", "1", #""done""#])
            let failed = try await supervisor.client("call", "first", "numbered-parts", #"{"count": 1, "fail": true}"#, "--stream")
            #expect(failed.code == 1 && failed.output == ["0"] && failed.lines.contains { $0.contains("failed after the parts") })
            #expect(try await supervisor.client("call", "nobody", "echo", "--stream").code == 4)
            try await supervisor.stop()
        }
}
}
