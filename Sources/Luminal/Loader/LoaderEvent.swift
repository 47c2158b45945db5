import LuminalSystem
import LuminalWire
import LuminalWorker

/// What happens to photons, as a `Loader` reports it on `events()`.
public enum LoaderEvent: Sendable {
    /// A load of a photon file began (its first generation is spawned next); `loaded` or
    /// `loadFailed` follows. `luminal status` shows the file `loading` meanwhile.
    case loadStarted(file: String)
    /// A photon file's worker said hello and its photons were registered.
    case loaded(file: String, photons: [String], pid: Int32, generation: Int)
    /// A photon file could not be loaded.
    case loadFailed(file: String, error: LoaderError)
    /// An entry of a photon folder is not a photon file and was passed over (a FIFO, a device, a
    /// broken symlink, a second path to a file already found, a name that is not UTF-8…).
    /// While watching, each is reported once, and again only if its reason changes.
    case skipped(file: String, reason: String)
    /// A photon's start routine succeeded.
    case started(photon: String, file: String)
    /// A photon file was unloaded; the outcome says how its worker ended.
    case stopped(UnloadOutcome)
    /// The supervisor had to SIGKILL a worker's tree.
    case killed(file: String, pid: Int32, reason: String)
    /// A worker exited without being asked to.
    case crashed(file: String, photons: [String], pid: Int32, exit: ExitStatus)
    /// A worker broke the protocol and was killed.
    case protocolFault(file: String, photons: [String], pid: Int32, reason: String)
    /// A reload of a photon file began; `generation` is the one serving now.
    case reloadStarted(file: String, generation: Int)
    /// A reload succeeded: the new generation serves, the old one was drained and stopped.
    case reloaded(ReloadReport)
    /// A reload failed at `step`; the old generation keeps serving.
    case reloadRolledBack(file: String, step: ReloadStep, reason: String)
    /// Generation `generation` of a healthy file is being replaced through the atomic reload
    /// because its recycle policy says so (`reloadStarted` and `reloaded` follow).
    case recycling(file: String, generation: Int, reason: RecycleReason)
    /// A photon file whose `instances` scale runs `instances` now: instance number `instance`
    /// came up because calls found every instance busy, or was stopped, being to spare for the
    /// pool's linger; `pid` is its worker's (nil for an instance stopped while it had none
    /// serving: crashed, or quarantined).
    case scaled(file: String, instances: Int, instance: Int, pid: Int32?, reason: String)
    /// Bringing a photon file's pool up to `instances`, as calls found every instance busy,
    /// failed at `step` with `error`: the pool keeps the instances it has, and asks again in
    /// `retryIn` at the soonest.
    case scaleFailed(file: String, instances: Int, step: ReloadStep, retryIn: Duration, error: LoaderError)
    /// A worker's calls keep timing out although it may answer pings: 3 calls in a row passed
    /// their timeout on it with no reply between them (`HealthCheck.unresponsive` bounds how long
    /// it may stay so).
    case unresponsive(file: String, photons: [String], pid: Int32)
    /// An unresponsive worker answered a call again.
    case responsive(file: String, photons: [String], pid: Int32)
    /// Recycling generation `generation` failed with `error` for the `failures`th time in a row;
    /// it keeps serving, and recycling is tried again in `retryIn` (the restart policy's backoff).
    case recycleFailed(file: String, generation: Int, failures: Int, retryIn: Duration, error: LoaderError)
    /// A worker ended on its own; `restartIn` is when it will be restarted (nil: it will not be,
    /// by policy), after `failures` consecutive failures.
    case failed(file: String, failure: FailureClass, failures: Int, restartIn: Duration?)
    /// A worker was restarted after a failure; `generation` is the new one.
    case restarted(file: String, generation: Int, restarts: Int)
    /// A photon file failed `failures` times in a row and is retried every `retryIn`.
    case quarantined(file: String, failure: FailureClass, failures: Int, retryIn: Duration)
    /// A call to an idempotent method was in flight when its worker ended on its own (or was made
    /// while the photon was being restarted): it was sent again to `generation`.
    case callRetried(file: String, photon: String, method: String, generation: Int)
    /// A call to an idempotent method was in flight in two generations that both ended on their
    /// own: it failed with `poisonCall` and is not sent again.
    case poisonCall(file: String, photon: String, method: String)
    /// A line a worker wrote on stdout or stderr.
    case log(LogLine)
    /// This stream fell behind and `count` events were dropped here.
    case eventsDropped(count: Int)
    /// An event a photon emitted.
    case photonEvent(photon: String, file: String, name: String, data: JSONValue)
}

/// One line of a worker's output.
public struct LogLine: Sendable, Hashable {
    /// The photon file whose worker wrote it.
    public let file: String
    /// The photons of that file (empty before the hello).
    public let photons: [String]
    /// The worker's pid.
    public let pid: Int32
    /// stdout or stderr.
    public let stream: OutputStream
    /// The line, without its newline.
    public let text: String
}
