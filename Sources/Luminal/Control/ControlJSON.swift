import LuminalWire

extension Handler {
    /// Whether the photon is doing its job: started, and not being stopped or restarted.
    public var isHealthy: Bool { state == .started }

    /// The handler as `luminal status --json` shows it, read in one piece.
    public var statusJSON: JSONValue { snapshot.statusJSON }
}

extension PhotonSnapshot {
    /// The photon as `luminal status --json` shows it.
    public var statusJSON: JSONValue {
        [
            "name": .string(name), "file": .string(filePath), "state": .string(state.description),
            "healthy": .bool(isHealthy), "pid": .int(Int64(pid)), "generation": .int(Int64(generation)),
            "restarts": .int(Int64(restarts)), "uptime": uptime?.seconds ?? nil,
            "lastExit": lastExit.map { .string($0.description) } ?? nil,
            "failure": failureClass.map { .string($0.rawValue) } ?? nil,
            "kinds": .array(kinds.map(JSONValue.string)), "methods": .array(methods.map(JSONValue.string)),
            "metadata": metadata.json, "checksum": .string(checksum),
        ]
    }
}

extension UnloadOutcome {
    /// The outcome as control replies and events carry it.
    public var json: JSONValue {
        ["file": .string(file), "photons": .array(photons.map(JSONValue.string)), "ending": .string(ending.rawValue),
         "exit": exit.map { .string($0.description) } ?? nil,
         "finalizerErrors": .object(finalizerErrors.mapValues(JSONValue.string))]
    }
}

extension LogBook.Entry {
    /// The entry as `luminal logs --json` shows it.
    public var json: JSONValue {
        ["time": .double(time), "level": .string(record.level.description), "file": record.file.map(JSONValue.string) ?? nil,
         "photon": record.tag.map(JSONValue.string) ?? nil, "message": .string(record.message)]
    }
}

extension Duration {
    /// Seconds, as a JSON number.
    var seconds: JSONValue { .double(fractionalSeconds) }
}
