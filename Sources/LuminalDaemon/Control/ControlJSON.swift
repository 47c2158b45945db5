import Luminal
import LuminalWire
import LuminalWorker

extension Handler {
    /// Whether the photon is doing its job: started, and not being stopped or restarted.
    public var isHealthy: Bool { state == .started }

    /// The handler as `luminal status --json` shows it, read in one piece, with how its worker
    /// is contained and limited, the sockets held for it, what its whole tree uses (shared by
    /// the photons of a file) and, for a file of several instances, each instance.
    public var statusJSON: JSONValue {
        guard case .object(var fields) = snapshot.statusJSON else { return snapshot.statusJSON }
        fields["containment"] = containment?.json ?? nil
        fields["sockets"] = .array(sockets.map(JSONValue.string))
        let instances = self.instances
        if instances.count > 1 { fields["instances"] = .array(instances.map(\.statusJSON)) }
        fields["usage"] = usage.map { usage in
            ["processes": .int(Int64(usage.processes)), "residentBytes": .int(Int64(usage.residentBytes)),
             "cpuSeconds": .double(usage.cpuSeconds), "openFiles": .int(Int64(usage.openDescriptors))]
        } ?? nil
        return .object(fields)
    }
}

extension InstanceSnapshot {
    /// The instance as `luminal status --json` shows it, under its photon.
    public var statusJSON: JSONValue {
        ["instance": .int(Int64(instance)), "state": .string(state.description), "pid": .int(Int64(pid)),
         "generation": .int(Int64(generation)), "restarts": .int(Int64(restarts)), "uptime": uptime?.seconds ?? nil,
         "callsInFlight": .int(Int64(callsInFlight)), "calls": .int(Int64(clamping: calls))]
    }
}

extension ContainmentReport {
    /// The report as `luminal status --json` shows it.
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "limits": .array(limits.map { limit in
                ["key": .string(limit.key), "value": .int(limit.value), "enforced": .bool(limit.enforced),
                 "reason": limit.reason.map(JSONValue.string) ?? nil]
            }),
            "identity": identity.map(JSONValue.string) ?? nil,
        ]
        switch holder {
        case .cgroup(let path):
            fields["holder"] = "cgroup"
            fields["cgroup"] = .string(path)
        case .processTree(let reason):
            fields["holder"] = "process tree"
            fields["reason"] = .string(reason)
        }
        return .object(fields)
    }
}

extension PhotonSnapshot {
    /// The photon as `luminal status --json` shows it.
    public var statusJSON: JSONValue {
        [
            "name": .string(name), "file": .string(filePath), "state": .string(stateText), "unresponsive": .bool(unresponsive),
            "healthy": .bool(isHealthy), "pid": .int(Int64(pid)), "generation": .int(Int64(generation)),
            "restarts": .int(Int64(restarts)), "uptime": uptime?.seconds ?? nil,
            "lastExit": lastExit.map { .string($0.description) } ?? nil,
            "failure": failureClass.map { .string($0.rawValue) } ?? nil,
            "kinds": .array(kinds.map(JSONValue.string)), "methods": .array(methods.map(JSONValue.string)),
            "metadata": metadata.json, "checksum": .string(checksum),
            "recycled": lastRecycle.map { .string($0.description) } ?? nil,
            "reloadFailure": reloadFailure.map { failure in
                ["step": .string(failure.step.rawValue), "reason": .string(failure.reason), "failures": .int(Int64(failure.failures)),
                 "for": reloadFailingFor?.seconds ?? nil]
            } ?? nil,
        ]
    }
}

extension FailedFile {
    /// The failed photon file as `luminal status --json` shows it, beside the photons: no name,
    /// state `failed`, never healthy, with the error of its last attempt.
    public var statusJSON: JSONValue {
        ["name": nil, "file": .string(path), "state": "failed", "healthy": false, "pid": nil, "generation": nil,
         "error": ["code": .string(error.code.rawValue), "message": .string(error.message)],
         "failures": .int(Int64(failures)), "for": since.duration(to: .now).seconds, "retryIn": retryIn?.seconds ?? nil,
         "stopped": .bool(stopped)]
    }
}

extension LoadingFile {
    /// The photon file being loaded as `luminal status --json` shows it, after the failed files:
    /// no name, state `loading`, not healthy yet, and for how long.
    public var statusJSON: JSONValue {
        ["name": nil, "file": .string(path), "state": "loading", "healthy": false, "pid": nil, "generation": nil,
         "for": since.duration(to: .now).seconds]
    }
}

extension LogBook.Entry {
    /// The entry as `luminal logs --json` shows it.
    public var json: JSONValue {
        ["time": .double(time), "level": .string(record.level.description), "file": record.file.map(JSONValue.string) ?? nil,
         "photon": record.tag.map(JSONValue.string) ?? nil, "message": .string(record.message)]
    }
}
