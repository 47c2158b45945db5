import LuminalSystem
import LuminalWire
import LuminalWorker

/// The whole life of one loaded photon file: its generations, their phases, its photons' states
/// and its restart and quarantine bookkeeping, in one value.
///
/// It changes only through `apply(_:)` (FileLifecycle+Transitions.swift), a pure function from an
/// event to the new state and the effects to carry out; it does no I/O and reads no clock. The
/// `Connection` is what a generation is reached through: a `Worker` in the supervisor, any value
/// in the transition tables' tests. `FileCore` holds one behind a lock and carries out the effects.
/// Sources/Luminal/ARCHITECTURE.md §2 draws it.
package struct FileLifecycle<Connection: Sendable>: Sendable {
    /// The photon file's path.
    package let path: String
    /// Live and recent generations, oldest first: at most one serving, at most one coming up, and
    /// any number retiring or stopping. A generation leaves once its stop has finished.
    package var generations: [GenerationRecord<Connection>] = []
    /// Every photon this file has had, by name; those of the serving generation are in `members`.
    package var photons: [String: PhotonRecord] = [:]
    /// The serving generation's photons, in the order its hello declared them.
    package var members: [String] = []
    /// Unrequested endings in a row; reset once a generation stays up for the policy's `stableAfter`.
    package var failures = 0
    /// Stopped on purpose (`stopPhoton`): neither restarted nor reloaded until started again.
    package var held = false
    /// A restart is scheduled (after a backoff or a quarantine) or under way, until a generation
    /// serves.
    var restartPending = false
    /// How unrequested endings are handled.
    package var policy: RestartPolicy
    /// Whether `policy` was set through the API (a reload then keeps it).
    var policyIsFixed = false
    /// The newest version that failed to come up while an older one serves, until one takes over.
    package var reloadFailure: ReloadFailure?
    /// Why the file's worker was last recycled, if it ever was.
    package var lastRecycle: RecycleReason?
    /// Recyclings of the serving generation that failed in a row; reset when a generation takes over.
    var recycleFailures = 0
    /// No recycling is tried before this instant (the backoff after a failed one).
    var recycleHeldUntil: ContinuousClock.Instant?
    /// The highest generation number that took over (a generation given up on before it served
    /// leaves its number to the next one).
    var lastServed = 0
    /// The generation the photons point at (serving, stopping, or ended while doing either).
    var servingNumber: Int?
    /// Which instance of its file this lifecycle is (`PoolSize`): the first one reports the
    /// file's load and its photons' starts; the others' logs name them.
    package var instance = 1

    /// A file with no generation yet, handled by `policy`.
    package init(path: String, policy: RestartPolicy) {
        self.path = path
        self.policy = policy
    }

    /// The generation the photons point at, if any (it may be stopping or have ended).
    package var serving: GenerationRecord<Connection>? {
        servingNumber.flatMap(generation)
    }

    /// The generation numbered `number`, if it is still tracked.
    package func generation(_ number: Int) -> GenerationRecord<Connection>? {
        generations.first { $0.number == number }
    }

    /// The file as its logs name it: its path, and the instance after the first (`path (instance 2)`).
    var subject: String {
        instance == 1 ? path : "\(path) (instance \(instance))"
    }

    /// The number the next generation spawned gets.
    var nextGeneration: Int { lastServed + 1 }
}

/// One generation of a photon file: a worker process and where it is in its life.
package struct GenerationRecord<Connection: Sendable>: Sendable {
    /// 1 for the first generation of a load, +1 for each after.
    package let number: Int
    /// How it is reached.
    package let connection: Connection
    /// Its process id.
    package let pid: Int32
    /// A plain executable (`"protocol": "none"`): it takes no calls and has no start routine.
    package let plain: Bool
    /// Where it is in its life.
    package var phase: GenerationPhase
    /// The names of its photons, once chosen (`prepared`); empty before its hello.
    package var photons: [String] = []
    /// When it took over serving (for the restart policy's `stableAfter`); nil before.
    var servingSince: ContinuousClock.Instant?
    /// Its calls keep timing out although it may answer pings (`CallResponsiveness`).
    package var unresponsive = false

    /// Whether it has ended (its process is gone or was given up on).
    var hasEnded: Bool {
        if case .ended = phase { return true }
        return false
    }
}

/// Where a generation is in its life.
package enum GenerationPhase: Sendable, Equatable {
    /// Spawned; its hello (or a plain executable's ready time) is awaited.
    case handshaking
    /// Said a valid hello; its photons are being chosen and started, before it takes over.
    case comingUp
    /// Serves the file's photons: calls go to it.
    case serving
    /// Replaced by a newer generation: it finishes its calls and is stopped gracefully.
    case retiring
    /// Being stopped (unload or stop): it drains, unless forced, then stops.
    case stopping
    /// Given up on before it served (its bring-up failed or was rolled back): being killed.
    case abandoned
    /// Its process is gone or was given up on, as the ending says, leaving phase `from`.
    indirect case ended(GenerationEnding, from: GenerationPhase)
}

/// How a generation ended.
package enum GenerationEnding: Sendable, Equatable {
    /// Its process exited.
    case exited(ExitStatus)
    /// It broke the protocol and is being killed.
    case faulted(String)
    /// It stopped answering heartbeats within the timeout and is being killed.
    case missedHeartbeat(Duration)
    /// It stayed unresponsive (its calls kept timing out) for this long, its `health.unresponsive`
    /// bound, and is being killed.
    case unresponsive(Duration)
    /// Its process was killed by one of its limits (`outOfMemory`, `cpuTimeLimit`).
    case overLimit(ExitStatus, FailureClass)
}

/// One photon of a photon file, as its handler reports it.
package struct PhotonRecord: Sendable, Equatable {
    /// As its generation's hello declared it.
    package var descriptor: PhotonDescriptor
    /// SHA-256 of the photon file its generation was spawned from.
    package var checksum: String
    /// Its generation.
    package var generation: Int
    /// That generation's pid.
    package var pid: Int32
    package var state: PhotonState = .ready
    /// How its worker ended, once it has.
    package var lastExit: ExitStatus?
    /// Asked to start (by the host, or started by a reload or restart) and not stopped since: the
    /// next generation (a reload, a restart) starts it again, also when its own start failed.
    var wantsToRun = false
    /// When its current generation took over.
    package var since: ContinuousClock.Instant
    /// Restarts after a failure that succeeded.
    package var restarts = 0
    /// Why its worker last failed.
    package var failure: FailureClass?
}
