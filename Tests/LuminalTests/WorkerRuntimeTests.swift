#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
import Testing

extension Supervisor {
    /// The Swift SDK and the Python runtime behave as PROTOCOL.md says where a host could try them.
    @Suite struct WorkerRuntimes {
        enum Runtime: String, CaseIterable, Sendable {
            case swift, python

            /// Writes a photon file named `name` hosting photon `p` with an `echo` method; `setup`
            /// runs first (a shell line for Swift, Python for Python).
            @discardableResult
            func photon(in folder: PhotonFolder, setup: String = "") -> String {
                switch self {
                case .swift: folder.script("p", "\(setup)\nexec '\(BuildProducts.chaosPhoton)' serve p")
                case .python: folder.python("p.py", "\(setup)\np = Photon('p')\n@p.method()\ndef echo(params, ctx):\n    return params\nrun(p)")
                }
            }
        }

        @Test(arguments: Runtime.allCases)
        func aCallOrStartOutOfStateIsAnsweredInvalidState(runtime: Runtime) async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(runtime.photon(in: folder), in: folder.path)
            func code(_ reply: [String: JSONValue]) -> String? { reply["type"] == "error" ? reply["code"]?.stringValue : "result" }
            let call: (Int64) -> JSONValue = { ["type": "call", "id": .int($0), "photon": "p", "method": "echo", "params": 1] }
            #expect(code(try worker.request(call(1))) == "invalid_state") // never started
            // The photon's state before its methods: a method it lacks is not looked for yet.
            #expect(code(try worker.request(["type": "call", "id": 10, "photon": "p", "method": "nope"])) == "invalid_state")
            #expect(code(try worker.request(["type": "start", "id": 2, "photon": "p"])) == "result")
            #expect(try worker.request(call(3)) == ["type": "result", "id": 3, "value": 1])
            #expect(code(try worker.request(["type": "start", "id": 4, "photon": "p"])) == "invalid_state") // already started
            #expect(code(try worker.request(["type": "stop", "id": 5, "photon": "p"])) == "result")
            #expect(code(try worker.request(call(6))) == "invalid_state") // stopped
            #expect(code(try worker.request(["type": "start", "id": 7, "photon": "p"])) == "invalid_state") // no start after stop
            #expect(code(try worker.request(["type": "call", "id": 8, "photon": "q", "method": "echo"])) == "unknown_photon")
            worker.send(["type": "shutdown"])
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        @Test(arguments: Runtime.allCases)
        func pingsAreAnsweredFromTheHelloOnWhileStartsArePipelined(runtime: Runtime) async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(runtime.photon(in: folder), in: folder.path)
            #expect(try worker.request(["type": "ping", "id": 1]) == ["type": "pong", "id": 1]) // before any start
            worker.send(["type": "start", "id": 2, "photon": "p"])
            worker.send(["type": "ping", "id": 3])
            let replies = [try worker.receive(), try worker.receive()]
            #expect(Set(replies.compactMap { $0["id"]?.intValue }) == [2, 3])
            #expect(replies.contains(["type": "pong", "id": 3]))
            worker.send(["type": "shutdown"])
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        @Test(arguments: Runtime.allCases, ["+100", " 100", "100 ", "0", "1", "-100", "1_000", "1e3", "0x100"])
        func aMalformedFrameCapMeansTheDefault(runtime: Runtime, value: String) async throws {
            try await withLoader { loader, folder in
                let setup = runtime == .swift ? "LUMINAL_FRAME_CAP='\(value)'; export LUMINAL_FRAME_CAP" : "import os\nos.environ['LUMINAL_FRAME_CAP'] = '\(value)'"
                let handler = try #require(try await loader.loadPhoton(at: runtime.photon(in: folder, setup: setup), base: nil).first)
                try await handler.start()
                let big = JSONValue.string(String(repeating: "x", count: 2000)) // over any cap the value could be misread as
                #expect(try await handler.call("echo", params: big) == big)
            }
        }

        /// An end of file inside a frame on fd 3 is the host gone mid-write: exit 0, as at any end of file.
        @Test(arguments: Runtime.allCases)
        func anEndOfFileInsideAFrameEndsTheWorkerCleanly(runtime: Runtime) async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(runtime.photon(in: folder), in: folder.path)
            worker.send(bytes: [0, 0, 0, 40] + Array(#"{"type":"ping","#.utf8))
            worker.closeInput()
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        /// A worker message arriving from the host is a request type the worker does not know, and
        /// a call of the empty method names no method.
        @Test(arguments: Runtime.allCases)
        func aWorkerMessageFromTheHostAndAnEmptyMethodAreAnsweredAsTheProtocolSays(runtime: Runtime) async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(runtime.photon(in: folder), in: folder.path)
            let unsupported = try worker.request(["type": "result", "id": 1, "value": 1])
            #expect(unsupported["type"] == "error" && unsupported["id"] == 1 && unsupported["code"] == "unsupported", "\(unsupported)")
            // No id (null counts as absent): ignored, so the next frame is the pong.
            worker.send(["type": "hello", "id": .null, "protocol": 1])
            #expect(try worker.request(["type": "ping", "id": 2]) == ["type": "pong", "id": 2])
            #expect(try worker.request(["type": "start", "id": 3, "photon": "p"])["type"] == "result")
            let empty = try worker.request(["type": "call", "id": 4, "photon": "p", "method": ""])
            #expect(empty["type"] == "error" && empty["code"] == "unknown_method", "\(empty)")
            // An integral number is an integer, for deadline_ms as for ids.
            let integral = try worker.request(["type": "call", "id": 5, "photon": "p", "method": "echo", "params": 1, "deadline_ms": 5000.0])
            #expect(integral == ["type": "result", "id": 5, "value": 1], "\(integral)")
            worker.send(["type": "shutdown"])
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        /// Eight methods emitting at once on the Python runtime's threads: every frame arrives
        /// whole, each call's events in the order it sent them and before its reply.
        @Test func pythonFramesOfConcurrentMethodsStayWholeAndInOrder() async throws {
            let folder = PhotonFolder()
            defer { folder.remove() }
            let worker = try RawWorker(folder.python("p.py", """
                p = Photon('p')
                @p.method()
                def burst(params, ctx):
                    for i in range(300):
                        ctx.emit('n', {'call': params, 'i': i})
                    return 'done'
                run(p)
                """), in: folder.path)
            #expect(try worker.request(["type": "start", "id": 1, "photon": "p"])["type"] == "result")
            let calls = (2...9).map { Int64($0) }
            worker.send(together: calls.map { ["type": "call", "id": .int($0), "photon": "p", "method": "burst", "params": .int($0)] })
            var next = Dictionary(uniqueKeysWithValues: calls.map { ($0, Int64(0)) })
            var answered = Set<Int64>()
            while answered.count < calls.count {
                let frame = try worker.receive()
                if frame["type"] == "event", let call = frame["data"]?["call"]?.intValue, let i = frame["data"]?["i"]?.intValue {
                    #expect(i == next[call] && !answered.contains(call), "call \(call): event \(i) after \(next[call] ?? -1)")
                    next[call] = i + 1
                } else if frame["type"] == "result", let id = frame["id"]?.intValue {
                    #expect(next[id] == 300 && frame["value"] == "done", "\(frame)")
                    answered.insert(id)
                } else {
                    Issue.record("unexpected frame \(frame)")
                }
            }
            worker.send(["type": "shutdown"])
            #expect(await worker.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
        }

        /// Runs `script` with the repository as its argument: it prints "all N right" or the
        /// cases it got wrong, and exits 0.
        private func expectAllRight(_ script: String) async throws {
            let run = try CommandProcess(["-c", script, BuildProducts.repository], program: "/usr/bin/python3")
            #expect(try await run.finish() == .exited(code: 0))
            #expect(run.output.count == 1 && run.output[0].hasPrefix("all "), "\(run.lines)")
        }

        @Test func pythonReadsLuminalProtocolAsTheSpecSays() async throws {
            let script = """
            import sys
            sys.path.insert(0, sys.argv[1] + '/protocol/python')
            from luminal_photon import protocol_versions
            cases = {'1': [1], '1,2': [1, 2], '': [], 'v1': [], ' 1': [], '1 ': [], '+1': [], '1,,2': [1, 2],
                     '1,x,3': [1, 3], '\\u0663': [], '1' * 10: [], '001': [1]}
            wrong = [text for text, expect in cases.items() if protocol_versions(text) != expect]
            print('wrong: %r' % wrong if wrong else 'all %d right' % len(cases))
            """
            try await expectAllRight(script)
        }

        /// The Python runtime's frame reader against every framing vector, the stream whole and
        /// one byte at a time: its JSON checks (duplicate keys, depth, numbers) included.
        @Test func pythonReadsTheFrameVectorsAsSwiftDoes() async throws {
            let script = """
            import json, sys
            sys.path.insert(0, sys.argv[1] + '/protocol/python')
            from luminal_photon._wire import _BadFrame, _parse_int
            from luminal_photon._worker import _Worker
            sys.setrecursionlimit(10000)                 # same() below walks the 512-deep vectors
            document = json.load(open(sys.argv[1] + '/protocol/vectors/frames.json'), parse_int=_parse_int)
            def same(a, b):
                if type(a) is not type(b):
                    return False
                if type(a) is dict:
                    return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
                if type(a) is list:
                    return len(a) == len(b) and all(map(same, a, b))
                return a == b
            def read(data, cap, eof, step):
                worker = _Worker.__new__(_Worker)
                worker.buffer, worker.cap, worker.wanted = bytearray(), cap, 4
                payloads = []
                try:
                    for at in range(0, len(data), step):
                        worker.buffer += data[at:at + step]
                        while (payload := worker.next_payload()) is not None:
                            payloads.append(worker.decode(payload))
                except _BadFrame as fault:
                    return payloads, str(fault)
                return payloads, 'truncated frame' if eof and worker.buffer else None
            wrong = []
            for vector in document['vectors']:
                data, expect = bytes.fromhex(vector['hex']), vector['expect']
                for step, how in ((len(data) or 1, 'whole'), (1, 'byte by byte')):
                    payloads, fault = read(data, vector.get('cap', document['cap']), vector['eof'], step)
                    wanted = expect.get('fault')
                    if not (len(payloads) == len(expect['payloads']) and all(map(same, payloads, expect['payloads']))
                            and (fault is None if wanted is None else fault is not None and fault.startswith(wanted))):
                        wrong.append('%s (%s: %r)' % (vector['name'], how, fault))
            print('wrong: ' + ', '.join(wrong) if wrong else 'all %d right' % len(document['vectors']))
            """
            try await expectAllRight(script)
        }

        /// The Python runtime's dispatch against every host-to-worker message vector: a fault
        /// that names the member, or none; an unknown request answered `unsupported` if it has an id.
        @Test func pythonTakesTheMessageVectorsAsSwiftDoes() async throws {
            let script = """
            import json, sys
            sys.path.insert(0, sys.argv[1] + '/protocol/python')
            from luminal_photon import Photon
            from luminal_photon._wire import _BadFrame
            from luminal_photon._worker import _Worker
            photons = []
            for name, methods in (('greeter', ['greet']), ('calc', ['add']), ('p', ['get', 'rows'])):
                photon = Photon(name)
                for method in methods:
                    photon.method(method)(lambda params, ctx: None)
                photons.append(photon)
            class Exited(Exception):
                pass
            class Harness(_Worker):
                def write(self, frame):
                    self.written.append(frame)
                def exit(self, status, keep_lock=False):
                    raise Exited(status)
            vectors = [v for v in json.load(open(sys.argv[1] + '/protocol/vectors/messages.json'))['vectors']
                       if v['direction'] == 'host-to-worker']
            wrong = []
            for vector in vectors:
                worker = Harness(tuple(photons), 1)
                worker.written = []
                worker.phases = {photon.name: 'started' for photon in photons}
                expect, fault = vector['expect'], None
                try:
                    worker.dispatch(worker.decode(bytearray(vector['json'].encode())))
                except _BadFrame as error:
                    fault = str(error)
                except Exited:
                    pass
                if 'fault' in expect:
                    right = fault is not None and fault.startswith(expect['fault']) and "'%s'" % expect['member'] in fault
                elif expect.get('unknown'):
                    right = fault is None and len(worker.written) == ('id' in expect) and all(b'unsupported' in f for f in worker.written)
                else:
                    right = fault is None
                if not right:
                    wrong.append('%s (%r)' % (vector['name'], fault))
            print('wrong: ' + ', '.join(wrong) if wrong else 'all %d right' % len(vectors))
            """
            try await expectAllRight(script)
        }

        @Test func pythonReadsTheHeldSocketVectorsAsSwiftDoes() async throws {
            let script = """
            import json, sys
            sys.path.insert(0, sys.argv[1] + '/protocol/python')
            import luminal_photon
            document = json.load(open(sys.argv[1] + '/protocol/vectors/held_sockets.json'))
            vectors = document['vectors']
            wrong = [v['name'] for v in vectors
                     if [list(p) for p in luminal_photon.held_socket_fds(v['count'], v['names'], v['pid'], document['own_pid'])] != v['expect']]
            print('wrong: ' + ', '.join(wrong) if wrong else 'all %d right' % len(vectors))
            """
            try await expectAllRight(script)
        }

        @Test func pythonReadsTheFrameCapVectorsAsSwiftDoes() async throws {
            let script = """
            import json, sys
            sys.path.insert(0, sys.argv[1] + '/protocol/python')
            import luminal_photon
            vectors = json.load(open(sys.argv[1] + '/protocol/vectors/frame_cap.json'))['vectors']
            wrong = [v['name'] for v in vectors if luminal_photon.frame_cap(v['value']) != v['expect']]
            print('wrong: ' + ', '.join(wrong) if wrong else 'all %d right' % len(vectors))
            """
            try await expectAllRight(script)
        }
    }
}
