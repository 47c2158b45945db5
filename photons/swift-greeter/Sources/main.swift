import LuminalPhoton
import Synchronization

// Example photons written with the Swift SDK: one worker process hosting two photons.
// `luminal run photons` loads it through photon.json, which runs the binary `swift build` made.
let greeter = Photon("swift-greeter", author: "Luminal", version: "1.0.0",
                     description: "Greets people, from Swift", tags: ["example", "swift"])
    .onStart { _ in print("swift-greeter started") }
    .onStop { _ in print("swift-greeter stopped") }
    .method("greet") { params, _ in
        guard let who = (params["who"] ?? "world").stringValue else {
            throw PhotonError.invalidParams("'who' must be a string")
        }
        return ["greeting": .string("Hello, \(who)!")]
    }
    .method("add") { params, _ in
        guard let a = params["a"]?.doubleValue, let b = params["b"]?.doubleValue else {
            throw PhotonError.invalidParams("'a' and 'b' must be numbers")
        }
        return ["sum": .double(a + b)]
    }
    .method("count-to") { params, context in
        // {"n": int}: 1 … n, one part each to a caller that streams (`luminal call swift-greeter
        // count-to '{"n": 5}' --stream`), each sent once the caller took enough of those before.
        guard let n = (params["n"] ?? 3).intValue, (0...1_000_000).contains(n) else { throw PhotonError.invalidParams("'n' must be an integer from 0 to 1000000") }
        guard context.isStreamed else { return .array((0..<n).map { .int($0 + 1) }) }
        for number in stride(from: Int64(1), through: n, by: 1) { try await context.sendPart(.int(number)) }
        return nil
    }
    .method("tick") { params, context in
        context.emit("tick", ["n": params["n"] ?? 1])
        return nil
    }

// State lives in the worker, shared by its photons' calls; the SDK runs calls concurrently.
let count = Mutex(0)

let counter = Photon("swift-counter", author: "Luminal", version: "1.0.0",
                     description: "Counts, in the same worker as swift-greeter", tags: ["example", "swift"])
    .method("increment") { params, context in
        guard let by = (params["by"] ?? 1).intValue else { throw PhotonError.invalidParams("'by' must be an integer") }
        let value = count.withLock { count in
            count += Int(by)
            return count
        }
        if value.isMultiple(of: 10) { context.emit("milestone", ["count": .int(Int64(value))]) }
        return .int(Int64(value))
    }
    .method("value") { _, _ in .int(Int64(count.withLock { $0 })) }
    .method("compare") { _, context in
        // Calls another photon through the supervisor: py-counter, in a worker of its own.
        let python = try await context.call("py-counter", "value")
        return ["swift-counter": .int(Int64(count.withLock { $0 })), "py-counter": python]
    }

PhotonWorker.run(greeter, counter)
