import LuminalSystem
import LuminalWire
import LuminalWorker

extension FileLifecycle {
    package typealias Effect = LifecycleEffect<Connection>

    /// Applies `event`: the new state, and what the supervisor is to do about it.
    mutating func apply(_ event: LifecycleEvent<Connection>) -> [Effect] {
        switch event {
        case .spawned(let number, let connection, let pid, let plain):
            generations.append(GenerationRecord(number: number, connection: connection, pid: pid, plain: plain, phase: .handshaking))
            return []
        case .prepared(let number, let names):
            update(number) { generation in
                generation.photons = names
                if generation.phase == .handshaking { generation.phase = .comingUp }
            }
            return []
        case .abandoned(let number):
            update(number) { if !$0.hasEnded { $0.phase = .abandoned } }
            return []
        case .serving(let number, let descriptors, let started, let checksum, let policy, let restart, let now, let random):
            return takeOver(number, descriptors, started: started, checksum: checksum, policy: policy, restart: restart, at: now, random: random)
        case .reloadBegan:
            return serving.map { [.emit(.reloadStarted(file: path, generation: $0.number))] } ?? []
        case .reloadFailed(let step, let reason, let now):
            reloadFailure = ReloadFailure(step: step, reason: reason, failures: (reloadFailure?.failures ?? 0) + 1,
                                          since: reloadFailure?.since ?? now)
            return [.log(.error, "reload of \(path) rolled back at step '\(step.rawValue)': \(reason)"),
                    .emit(.reloadRolledBack(file: path, step: step, reason: reason))]
        case .servingVersionOnDisk:
            guard let failure = reloadFailure else { return [] }
            reloadFailure = nil
            return [.log(.info, "\(path) is again the version that serves; the failed reload (\(failure.failures) in a row) is over")]
        case .startRequested(let photon):
            return requestStart(photon)
        case .startFinished(let photon, let number, let error):
            return finishStart(photon, number: number, error: error)
        case .ended(let number, let ending, let now, let random):
            return end(number, ending, at: now, random: random)
        case .stopRequested(let hold):
            return requestStop(hold: hold)
        case .stopFinished(let exit):
            for name in members {
                photons[name]?.state = .stopped
                photons[name]?.wantsToRun = false
                if let exit { photons[name]?.lastExit = exit }
            }
            return []
        case .removed(let number):
            generations.removeAll { $0.number == number && $0.number != servingNumber }
            return []
        case .restartDue:
            // Accepted, the restart stays pending until its generation serves (`takeOver`).
            guard !held, members.allSatisfy({ photons[$0]?.state.isFinal ?? true }) else {
                restartPending = false
                return [.refuse(LoaderError(.notStarted, "photon file \(path) is not to be restarted now", file: path))]
            }
            return []
        case .restartFailed(let failure, let reason, let random):
            return scheduleRestart(after: failure, reason: reason, random: random)
        case .revived:
            held = false
            failures = 0
            restartPending = false
            // Asked to run: a generation that cannot come up now leaves that wish for the next
            // one (a reload after the file is fixed starts them, as for a failed start).
            for name in members { photons[name]?.wantsToRun = true }
            return [.cancelRestart]
        case .policySet(let policy):
            self.policy = policy
            policyIsFixed = true
            return []
        case .recycling(let number, let reason):
            guard servingNumber == number else { return [] }
            lastRecycle = reason
            return [.log(.info, "recycling photon file \(subject) (generation \(number) \(reason)): a new generation takes over"),
                    .emit(.recycling(file: path, generation: number, reason: reason))]
        case .unresponsive(let number, let timeouts):
            return changeResponsiveness(number, unresponsive: true,
                                        "photon file \(subject) is unresponsive: \(timeouts) calls in a row timed out with no reply between them")
        case .responsive(let number):
            return changeResponsiveness(number, unresponsive: false, "photon file \(subject) answers its calls again")
        case .recycleFailed(let number, let error, let now, let random):
            return failRecycle(number, error, at: now, random: random)
        }
    }

    /// Generation `number` became unresponsive or answered again: reported, with `message`, while
    /// it serves (a generation coming up, retiring or stopping is not its photons' business).
    private mutating func changeResponsiveness(_ number: Int, unresponsive: Bool, _ message: String) -> [Effect] {
        guard let index = generations.firstIndex(where: { $0.number == number }), generations[index].unresponsive != unresponsive else { return [] }
        generations[index].unresponsive = unresponsive
        guard generations[index].phase == .serving, servingNumber == number else { return [] }
        let pid = generations[index].pid
        return unresponsive
            ? [.log(.warning, message), .emit(.unresponsive(file: path, photons: members, pid: pid))]
            : [.log(.info, message), .emit(.responsive(file: path, photons: members, pid: pid))]
    }

    /// A recycling of generation `number` failed: it keeps serving, and the next attempt waits
    /// for the restart policy's backoff (its quarantine retry once it would quarantine).
    private mutating func failRecycle(_ number: Int, _ error: LoaderError, at now: ContinuousClock.Instant, random: Double) -> [Effect] {
        guard servingNumber == number else { return [] }
        recycleFailures += 1
        let backoff = policy.delay(afterFailures: recycleFailures, random: random)
        let delay = backoff ?? policy.quarantineRetry
        recycleHeldUntil = now + delay
        let event = Effect.emit(.recycleFailed(file: path, generation: number, failures: recycleFailures, retryIn: delay, error: error))
        guard backoff != nil else {
            return [.log(.error, "recycling photon file \(subject) failed \(recycleFailures) times in a row (\(error.message)); generation \(number) keeps serving, recycling is retried every \(delay) or when the file changes"),
                    event]
        }
        return [.log(.warning, "recycling photon file \(subject) failed (\(error.message)); generation \(number) keeps serving, retried in \(delay)"),
                event]
    }

    /// Generation `number` takes over from the one serving (which retires).
    private mutating func takeOver(_ number: Int, _ descriptors: [PhotonDescriptor], started: Set<String>, checksum: String,
                                   policy: RestartPolicy, restart: Bool, at now: ContinuousClock.Instant, random: Double) -> [Effect] {
        guard let index = generations.firstIndex(where: { $0.number == number }) else {
            return [.refuse(LoaderError(.workerExited, "photon file \(path) has no generation \(number)", file: path))]
        }
        let endedEarly: GenerationEnding? = if case .ended(let ending, _) = generations[index].phase { ending } else { nil }
        if let endedEarly, servingNumber == nil {
            return [.refuse(LoaderError(.workerExited, "photon file \(path) ended right after its hello (\(endedEarly.photonState))",
                                        file: path, exit: endedEarly.exit))]
        }
        var effects: [Effect] = []
        if let previous = servingNumber, let old = generations.firstIndex(where: { $0.number == previous }),
           generations[old].phase == .serving {
            generations[old].phase = .retiring
            effects.append(.closeToCalls(generations[old].connection))
        }
        let first = servingNumber == nil
        restartPending = false
        reloadFailure = nil
        recycleFailures = 0
        recycleHeldUntil = nil
        servingNumber = number
        lastServed = max(lastServed, number)
        generations[index].servingSince = now
        if endedEarly == nil { generations[index].phase = .serving }
        if !policyIsFixed { self.policy = policy }
        let pid = generations[index].pid
        let names = descriptors.map(\.name)
        for name in members where !names.contains(name) {
            photons[name]?.state = .stopped
            photons[name]?.wantsToRun = false
        }
        for descriptor in descriptors {
            var record = photons[descriptor.name]
                ?? PhotonRecord(descriptor: descriptor, checksum: checksum, generation: number, pid: pid, since: now)
            record.descriptor = descriptor
            record.checksum = checksum
            record.generation = number
            record.pid = pid
            record.since = now
            record.state = started.contains(descriptor.name) ? .started : .ready
            if started.contains(descriptor.name) { record.wantsToRun = true }
            if restart { record.restarts += 1 }
            photons[descriptor.name] = record
        }
        members = names
        if first && instance == 1 {
            effects.append(.log(.info, "loaded \(names.joined(separator: ", ")) from \(path) (pid \(pid))"))
            effects.append(.emit(.loaded(file: path, photons: names, pid: pid, generation: number)))
        }
        if let endedEarly {
            // It ended between its bring-up and the switch: it is handled as if it ended serving.
            generations[index].phase = .serving
            effects += end(number, endedEarly, at: now, random: random)
        }
        return effects
    }

    private mutating func requestStart(_ photon: String) -> [Effect] {
        guard let record = photons[photon], members.contains(photon), let generation = generation(record.generation) else {
            return [.refuse(LoaderError(.unloaded, "photon \(photon) (\(path)) cannot be started: it is stopped", photon: photon, file: path))]
        }
        switch record.state {
        case .started, .starting:
            return []
        case .ready:
            // Asked for, it is meant to run from now on: a start that fails is tried again by the
            // next generation (a reload after its file changed, a restart) until it is stopped.
            photons[photon]?.state = .starting
            photons[photon]?.wantsToRun = true
            return [.sendStart(generation.connection, photon: photon)]
        default:
            return [.refuse(LoaderError(.unloaded, "photon \(photon) (\(path)) cannot be started: it is \(record.state)", photon: photon, file: path))]
        }
    }

    private mutating func finishStart(_ photon: String, number: Int, error: LoaderError?) -> [Effect] {
        guard let record = photons[photon] else { return [] }
        let starting = record.state == .starting && record.generation == number
        if let error {
            if starting { photons[photon]?.state = .ready }
            return [.log(.error, "photon \(photon) failed to start: \(error.message)"), .refuse(error)]
        }
        guard starting else {
            return [.refuse(LoaderError(.workerExited, "photon \(photon) (\(path)) ended while starting: it is \(record.state)",
                                        photon: photon, file: path, exit: record.lastExit))]
        }
        photons[photon]?.state = .started
        // A pool's photon is started once, as its first instance reports it.
        guard instance == 1 else { return [] }
        return [.log(.info, "started photon \(photon)"), .emit(.started(photon: photon, file: path))]
    }

    private mutating func requestStop(hold: Bool) -> [Effect] {
        restartPending = false
        if hold { held = true }
        var effects: [Effect] = [.cancelRestart]
        let started = members.filter { photons[$0]?.state == .started || photons[$0]?.state == .starting }
        for name in members where photons[name]?.state.isFinal == false {
            photons[name]?.state = .stopping
        }
        if let number = servingNumber, let index = generations.firstIndex(where: { $0.number == number }) {
            if generations[index].phase == .serving { generations[index].phase = .stopping }
            effects.append(.closeToCalls(generations[index].connection))
            effects.append(.stop(generations[index].connection, started: started))
        }
        return effects
    }

    /// Applies `change` to generation `number`, if it is tracked.
    private mutating func update(_ number: Int, _ change: (inout GenerationRecord<Connection>) -> Void) {
        if let index = generations.firstIndex(where: { $0.number == number }) { change(&generations[index]) }
    }
}

extension GenerationEnding {
    /// The state it leaves its photons in.
    var photonState: PhotonState {
        switch self {
        case .exited(let status), .overLimit(let status, _): .crashed(status)
        case .faulted(let reason): .faulted(reason: reason)
        case .missedHeartbeat, .unresponsive: .faulted(reason: givenUpReason)
        }
    }

    /// The exit status, for an exit.
    package var exit: ExitStatus? {
        switch self {
        case .exited(let status), .overLimit(let status, _): status
        case .faulted, .missedHeartbeat, .unresponsive: nil
        }
    }

    /// Why a worker that missed its heartbeat, or stayed unresponsive too long, is killed.
    var givenUpReason: String {
        switch self {
        case .missedHeartbeat(let timeout): "stopped answering heartbeats (no pong within \(timeout))"
        case .unresponsive(let bound): "stayed unresponsive for \(bound) (health.unresponsive): its calls kept timing out"
        default: ""
        }
    }
}
