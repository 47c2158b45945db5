import LuminalSystem
import LuminalWire
import LuminalWorker

extension LoaderEvent {
    /// The event as `luminal events --json` shows it: an object whose `event` member names the case (its `kind`).
    public var json: JSONValue {
        let event = JSONValue.string(kind.rawValue)
        func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
        switch self {
        case .loadStarted(let file):
            return ["event": event, "file": .string(file)]
        case .loaded(let file, let photons, let pid, let generation):
            return ["event": event, "file": .string(file), "photons": strings(photons), "pid": .int(Int64(pid)), "generation": .int(Int64(generation))]
        case .loadFailed(let file, let error):
            return ["event": event, "file": .string(file), "code": .string(error.code.rawValue), "message": .string(error.message)]
        case .skipped(let file, let reason):
            return ["event": event, "file": .string(file), "reason": .string(reason)]
        case .started(let photon, let file):
            return ["event": event, "photon": .string(photon), "file": .string(file)]
        case .stopped(let outcome):
            return ["event": event, "outcome": outcome.json]
        case .killed(let file, let pid, let reason):
            return ["event": event, "file": .string(file), "pid": .int(Int64(pid)), "reason": .string(reason)]
        case .crashed(let file, let photons, let pid, let exit):
            return ["event": event, "file": .string(file), "photons": strings(photons), "pid": .int(Int64(pid)), "exit": .string(exit.description)]
        case .protocolFault(let file, let photons, let pid, let reason):
            return ["event": event, "file": .string(file), "photons": strings(photons), "pid": .int(Int64(pid)), "reason": .string(reason)]
        case .reloadStarted(let file, let generation):
            return ["event": event, "file": .string(file), "generation": .int(Int64(generation))]
        case .reloaded(let report):
            return ["event": event, "file": .string(report.file), "photons": strings(report.photons),
                    "fromGeneration": .int(Int64(report.fromGeneration)), "toGeneration": .int(Int64(report.toGeneration)),
                    "oldPID": .int(Int64(report.oldPID)), "newPID": .int(Int64(report.newPID)),
                    "readyAfter": report.readyAfter.seconds, "startedAfter": report.startedAfter.seconds,
                    "drainedAfter": report.drainedAfter.seconds, "stoppedAfter": report.stoppedAfter.seconds,
                    "oldEnding": .string(report.oldEnding.rawValue)]
        case .reloadRolledBack(let file, let step, let reason):
            return ["event": event, "file": .string(file), "step": .string(step.rawValue), "reason": .string(reason)]
        case .recycling(let file, let generation, let reason):
            return ["event": event, "file": .string(file), "generation": .int(Int64(generation)), "reason": .string(reason.description)]
        case .scaled(let file, let instances, let instance, let pid, let reason):
            return ["event": event, "file": .string(file), "instances": .int(Int64(instances)), "instance": .int(Int64(instance)),
                    "pid": pid.map { .int(Int64($0)) } ?? .null, "reason": .string(reason)]
        case .scaleFailed(let file, let instances, let step, let retryIn, let error):
            return ["event": event, "file": .string(file), "instances": .int(Int64(instances)), "step": .string(step.rawValue),
                    "retryIn": retryIn.seconds, "code": .string(error.code.rawValue), "message": .string(error.message)]
        case .unresponsive(let file, let photons, let pid):
            return ["event": event, "file": .string(file), "photons": strings(photons), "pid": .int(Int64(pid))]
        case .responsive(let file, let photons, let pid):
            return ["event": event, "file": .string(file), "photons": strings(photons), "pid": .int(Int64(pid))]
        case .recycleFailed(let file, let generation, let failures, let retryIn, let error):
            return ["event": event, "file": .string(file), "generation": .int(Int64(generation)), "failures": .int(Int64(failures)),
                    "retryIn": retryIn.seconds, "code": .string(error.code.rawValue), "message": .string(error.message)]
        case .failed(let file, let failure, let failures, let restartIn):
            return ["event": event, "file": .string(file), "failure": .string(failure.rawValue), "failures": .int(Int64(failures)),
                    "restartIn": restartIn?.seconds ?? nil]
        case .restarted(let file, let generation, let restarts):
            return ["event": event, "file": .string(file), "generation": .int(Int64(generation)), "restarts": .int(Int64(restarts))]
        case .quarantined(let file, let failure, let failures, let retryIn):
            return ["event": event, "file": .string(file), "failure": .string(failure.rawValue), "failures": .int(Int64(failures)),
                    "retryIn": retryIn.seconds]
        case .callRetried(let file, let photon, let method, let generation):
            return ["event": event, "file": .string(file), "photon": .string(photon), "method": .string(method),
                    "generation": .int(Int64(generation))]
        case .poisonCall(let file, let photon, let method):
            return ["event": event, "file": .string(file), "photon": .string(photon), "method": .string(method)]
        case .log(let line):
            return ["event": event, "file": .string(line.file), "photons": strings(line.photons), "pid": .int(Int64(line.pid)),
                    "stream": .string(line.stream == .stdout ? "stdout" : "stderr"), "text": .string(line.text)]
        case .eventsDropped(let count):
            return ["event": event, "count": .int(Int64(count))]
        case .photonEvent(let photon, let file, let name, let data):
            return ["event": event, "photon": .string(photon), "file": .string(file), "name": .string(name), "data": data]
        }
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

extension Duration {
    /// Seconds, as a JSON number.
    package var seconds: JSONValue { .double(fractionalSeconds) }
}
