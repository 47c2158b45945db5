#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
@testable import LuminalWorker
import Testing

extension Supervisor {
    /// Every value a worker may legally send reaches the official clients as it was sent: as deep
    /// as the protocol allows, and with an error's `data` absent, null or a value as it came.
    @Suite struct WorkerValues {
        /// `depth` nested arrays, the deepest value a worker may send when `depth` is 511 (its
        /// frame's object is the 512th level).
        static func nested(_ depth: Int) -> JSONValue {
            (1..<depth).reduce(JSONValue.array([])) { value, _ in .array([value]) }
        }

        /// How deep `value` nests.
        static func depth(of value: JSONValue) -> Int {
            switch value {
            case .array(let items): 1 + (items.map(depth(of:)).max() ?? 0)
            case .object(let members): 1 + (members.values.map(depth(of:)).max() ?? 0)
            default: 0
            }
        }

        @Test func aResultAndErrorDataAsDeepAsAWorkerMaySendReachLuminalCall() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("deep") }
            let deepest = Self.nested(JSONValue.defaultMaxDepth - 1)
            let result = try await supervisor.client("call", "deep", "deep", #"{"depth": 511}"#, "--json")
            #expect(result.code == 0, "\(result.lines.suffix(3))")
            #expect(try result.json() == deepest)

            let failed = try await supervisor.client("call", "deep", "deep", #"{"depth": 511, "as": "error"}"#, "--json")
            #expect(failed.code == 1, "\(failed.lines.suffix(3))")
            let reply = try failed.json()
            #expect(reply["error"]?["details"]?["photonError"]?["data"] == deepest)
            #expect(Self.depth(of: reply) == JSONValue.controlMaxDepth)
            try await supervisor.stop()
        }

        @Test func anEventAsDeepAsAWorkerMaySendReachesLuminalEvents() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("deep") }
            let events = try await supervisor.subscribedEvents(through: "deep")
            #expect(try await supervisor.client("call", "deep", "deep", #"{"depth": 511, "as": "event"}"#).code == 0)
            _ = try await supervisor.client("call", "deep", "emit", #"{"name": "after"}"#)
            try await events.line { $0.contains(#""name":"after""#) }
            let deep = try #require(events.output.first { $0.contains(#""name":"deep""#) })
            let event = try JSONValue.parse(Array(deep.utf8), maxDepth: JSONValue.controlMaxDepth)
            #expect(event["data"] == Self.nested(JSONValue.defaultMaxDepth - 1))
            #expect(isAlive(events.process.pid))
            events.process.signal(SIGTERM)
            _ = try await events.finish()
            try await supervisor.stop()
        }

        @Test func metadataAsDeepAsAHelloMayCarryReachesLuminalRestart() async throws {
            // The hello puts a photon's metadata at depth 4 ({"photons": [{"metadata": …}]}), so a
            // member below it may nest 508 deep; `restart` replies with arrays of arrays of them.
            let supervisor = try await SupervisedFolder { folder in
                folder.python("deep-meta", """
                value = []
                for _ in range(507):
                    value = [value]
                run(Photon("deep-meta", metadata={"deep": value}))
                """)
            }
            let restarted = try await supervisor.client("restart", "deep-meta", "--json")
            #expect(restarted.code == 0, "\(restarted.lines.suffix(3))")
            let status = try restarted.json()[0]
            #expect(status?["metadata"]?["deep"] == Self.nested(JSONValue.defaultMaxDepth - 4))
            try await supervisor.stop()
        }

        /// An error's `data` as the worker sends it (nil: no `data` member), and as the params of
        /// the chaos photon's `fail-with` say it.
        static let errorData: [(data: JSONValue?, params: String)] = [
            (nil, "{}"),
            (.null, #"{"data": null}"#),
            (["why": "test", "codes": [1, 2]], #"{"data": {"why": "test", "codes": [1, 2]}}"#),
        ]

        @Test func anErrorsDataStaysAbsentNullOrAValueFromTheWorkerToLuminalCall() async throws {
            try await withLoader { loader, folder in
                let handler = try #require(try await loader.loadPhoton(at: folder.chaos("failing")).first)
                try await handler.start()
                for (data, params) in Self.errorData {
                    let error = try await #require(throws: LoaderError.self) {
                        try await handler.call("fail-with", params: try JSONValue.parse(params))
                    }
                    #expect(error.reply?.data == data, "\(params): \(String(describing: error.reply))")
                }
            }
            let supervisor = try await SupervisedFolder { folder in
                folder.chaos("failing")
                folder.python("py-failing", """
                photon = Photon("py-failing")

                @photon.method("fail-with")
                def fail_with(params, ctx):
                    raise PhotonError("photon_error", "asked to fail", *([params["data"]] if "data" in params else []))

                run(photon)
                """)
            }
            for photon in ["failing", "py-failing"] {
                for (data, params) in Self.errorData {
                    let failed = try await supervisor.client("call", photon, "fail-with", params, "--json")
                    #expect(failed.code == 1)
                    let photonError = try failed.json()["error"]?["details"]?["photonError"]?.objectValue
                    #expect(photonError?["code"] == "photon_error" && photonError?["data"] == data, "\(photon) \(params): \(failed.output)")
                }
            }
            try await supervisor.stop()
        }
    }
}
