import LuminalPhoton

// An example photon written with the Swift SDK. `luminal run photons` loads it through
// photon.json, which runs the binary `swift build` made.
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
    .method("tick") { params, context in
        context.emit("tick", ["n": params["n"] ?? 1])
        return nil
    }

PhotonWorker.run(greeter)
