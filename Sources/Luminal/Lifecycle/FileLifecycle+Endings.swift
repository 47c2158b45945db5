import LuminalSystem
import LuminalWire
import LuminalWorker

extension FileLifecycle {
    /// Generation `number` ended. An ending the supervisor asked for (retiring, stopping,
    /// abandoned) changes no photon; any other kills what is left of its tree, and one of the
    /// serving generation fails its photons and goes to the restart policy.
    package mutating func end(_ number: Int, _ ending: GenerationEnding, at now: ContinuousClock.Instant, random: Double) -> [Effect] {
        guard let index = generations.firstIndex(where: { $0.number == number }) else { return [] }
        let generation = generations[index]
        if case .ended = generation.phase {
            // An exit after a fault or a missed heartbeat: only the exit status is news.
            if let status = ending.exit { recordExit(status, of: number) }
            return []
        }
        let from = generation.phase
        generations[index].phase = .ended(ending, from: from)
        // Only the serving generation's ending changes the photons; one coming up in a reload is
        // still named, in its events, by the photons its hello chose.
        let names = number == servingNumber ? members : []
        let named = number == servingNumber ? members : generation.photons
        var effects: [Effect] = []
        switch ending {
        case .faulted(let reason):
            effects.append(.log(.error, "photon file \(subject) broke the protocol and is being killed: \(reason)"))
            effects.append(.emit(.protocolFault(file: path, photons: named, pid: generation.pid, reason: reason)))
            effects.append(.emit(.killed(file: path, pid: generation.pid, reason: "protocol fault: \(reason)")))
        case .missedHeartbeat, .unresponsive:
            effects.append(.log(.error, "photon file \(subject) \(ending.givenUpReason); killing it"))
            effects.append(.emit(.killed(file: path, pid: generation.pid, reason: ending.givenUpReason)))
        case .overLimit(let status, let failure):
            effects.append(.log(.error, "photon file \(subject) was killed by its limit (\(failure.rawValue)): \(status)"))
            effects.append(.emit(.killed(file: path, pid: generation.pid, reason: "\(failure.rawValue) (\(status))")))
        case .exited(let status):
            guard from != .retiring, from != .stopping, from != .abandoned else {
                recordExit(status, of: number)
                return []
            }
            if from == .serving {
                effects.append(.log(.error, "photon file \(subject) exited unexpectedly with \(status)"))
                effects.append(.emit(.crashed(file: path, photons: names, pid: generation.pid, exit: status)))
            }
        }
        // What it started goes with it now, not when the file is next unloaded or restarted.
        effects.append(.killTree(generation.connection))
        for name in names where photons[name]?.state.isFinal == false {
            photons[name]?.state = ending.photonState
        }
        if let status = ending.exit { recordExit(status, of: number) }
        guard from == .serving, !held else { return effects }
        return effects + supervise(failure: ending.failureClass, exit: ending.exit, servingSince: generation.servingSince,
                                   at: now, random: random)
    }

    /// Decides what follows an unrequested ending of the serving generation.
    private mutating func supervise(failure: FailureClass, exit: ExitStatus?, servingSince: ContinuousClock.Instant?,
                                    at now: ContinuousClock.Instant, random: Double) -> [Effect] {
        if let servingSince, servingSince.duration(to: now) >= policy.stableAfter { failures = 0 }
        guard policy.restarts(after: exit) else {
            for name in members { photons[name]?.failure = failure }
            let given = [Effect.emit(.failed(file: path, failure: failure, failures: failures + 1, restartIn: nil))]
            return given + essentialLost("ended (\(failure.rawValue)) and its restart policy '\(policy.mode.rawValue)' does not restart it")
        }
        return scheduleRestart(after: failure, random: random)
    }

    /// Counts a failure and schedules the restart: at once, after a backoff, or after quarantine.
    /// `reason`: how a restart's new generation failed, for the log.
    mutating func scheduleRestart(after failure: FailureClass, reason: String? = nil, random: Double) -> [Effect] {
        let cause = reason.map { "\(failure.rawValue): \($0)" } ?? failure.rawValue
        failures += 1
        restartPending = true
        for name in members { photons[name]?.failure = failure }
        if let delay = policy.delay(afterFailures: failures, random: random) {
            return [.log(.warning, "photon file \(subject) failed (\(cause)); restarting\(delay == .zero ? " now" : " in \(delay)")"),
                    .emit(.failed(file: path, failure: failure, failures: failures, restartIn: delay)),
                    .scheduleRestart(after: delay)]
        }
        for name in members { photons[name]?.state = .quarantined(failure) }
        return [.log(.error, "photon file \(subject) failed \(failures) times in a row (\(cause)); quarantined, retried every \(policy.quarantineRetry) or when it changes"),
                .emit(.quarantined(file: path, failure: failure, failures: failures, retryIn: policy.quarantineRetry)),
                .scheduleRestart(after: policy.quarantineRetry)] + essentialLost("failed \(failures) times in a row (\(failure.rawValue)) and is quarantined")
    }

    /// The effect that tells the host an essential file cannot be kept running, if it is one.
    private func essentialLost(_ reason: String) -> [Effect] {
        policy.essential ? [.essentialLost("essential photon file \(subject) \(reason)")] : []
    }

    private mutating func recordExit(_ status: ExitStatus, of number: Int) {
        for name in members where photons[name]?.generation == number { photons[name]?.lastExit = status }
    }
}

extension GenerationEnding {
    /// How the restart policy classes it.
    package var failureClass: FailureClass {
        switch self {
        case .exited: .runtimeCrash
        case .overLimit(_, let failure): failure
        case .faulted: .protocolFault
        case .missedHeartbeat: .healthCheckTimeout
        case .unresponsive: .unresponsive
        }
    }
}
