import LuminalSystem
import LuminalWire
import LuminalWorker

/// What can happen to a photon file, as `FileLifecycle.apply(_:)` takes it.
///
/// Instants and random numbers come in with the events, so that a transition is a pure function.
enum LifecycleEvent<Connection: Sendable>: Sendable {
    /// Generation `number` was spawned as `pid`; its hello is awaited. `plain` for an executable
    /// without the protocol.
    case spawned(number: Int, connection: Connection, pid: Int32, plain: Bool)
    /// Generation `number` said a valid hello and `photons` were chosen: it is coming up.
    case prepared(number: Int, photons: [String])
    /// Generation `number` is given up on before it served (a failed or rolled-back bring-up).
    case abandoned(number: Int)
    /// Generation `number` takes over with `photons` (the first load, a reload or a restart);
    /// those named in `started` run their start routines already. The generation it replaces
    /// retires. `policy` is the restart policy its file asks for; `restart` counts a restart.
    /// `random` is for a generation that ended before it took over (see `ended`).
    case serving(number: Int, photons: [PhotonDescriptor], started: Set<String>, checksum: String,
                 policy: RestartPolicy, restart: Bool, at: ContinuousClock.Instant, random: Double)
    /// A reload of the file begins.
    case reloadBegan
    /// A reload of the file failed at `step` for `reason`: the serving generation, if any, keeps serving.
    case reloadFailed(step: ReloadStep, reason: String, at: ContinuousClock.Instant)
    /// The file on disk is again the version that serves: a failed reload's version is gone.
    case servingVersionOnDisk
    /// The host asks photon `photon` to start.
    case startRequested(photon: String)
    /// The start routine of `photon` in generation `number` finished; `error` if it failed.
    case startFinished(photon: String, number: Int, error: LoaderError?)
    /// Generation `number` ended as `ending`; `random` in 0...1 picks the restart backoff's jitter.
    case ended(number: Int, ending: GenerationEnding, at: ContinuousClock.Instant, random: Double)
    /// The host stops the file's photons: `hold` keeps the file loaded but stopped (`stopPhoton`),
    /// otherwise it is being unloaded.
    case stopRequested(hold: Bool)
    /// The stop of the serving generation finished; its exit status, if it was reaped.
    case stopFinished(exit: ExitStatus?)
    /// Generation `number` stopped (after retiring, stopping or being abandoned): it is forgotten.
    case removed(number: Int)
    /// The scheduled restart is due.
    case restartDue
    /// A restart's new generation could not be brought up, for `failure`; `reason` says how.
    case restartFailed(FailureClass, reason: String, random: Double)
    /// The host starts a stopped, crashed or quarantined file again: the hold and the failure count
    /// go, and every photon of it is meant to run.
    case revived
    /// The host sets the file's restart policy.
    case policySet(RestartPolicy)
    /// The serving generation `number` is being replaced because its recycle policy says so.
    case recycling(number: Int, reason: RecycleReason)
    /// Generation `number`'s calls kept timing out (`timeouts` in a row, no reply between them)
    /// although it may answer pings: it is unresponsive.
    case unresponsive(number: Int, timeouts: Int)
    /// Generation `number` answered a call again after being unresponsive.
    case responsive(number: Int)
    /// Recycling the serving generation `number` failed with `error` (it keeps serving); the next
    /// attempt waits for the restart policy's backoff, `random` in 0...1 picking its jitter.
    case recycleFailed(number: Int, error: LoaderError, at: ContinuousClock.Instant, random: Double)
}

/// What the supervisor is to do after a transition. `FileCore` carries them out in order.
package enum LifecycleEffect<Connection: Sendable>: Sendable {
    /// Report this on the loader's event stream.
    case emit(LoaderEvent)
    /// Write this to the log (about the file).
    case log(LogLevel, String)
    /// The connection takes no new calls from now on (calls already sent finish).
    case closeToCalls(Connection)
    /// Kill the connection's whole process tree (it ended without being asked to).
    case killTree(Connection)
    /// Send the start request for `photon` to the connection.
    case sendStart(Connection, photon: String)
    /// Restart the file after `delay`: bring up a new generation (`restartDue` when it is due).
    case scheduleRestart(after: Duration)
    /// Forget a scheduled restart.
    case cancelRestart
    /// Stop the connection: `graceful` runs the finalizers of `started` first.
    case stop(Connection, started: [String])
    /// The request is refused with this error (nothing else changed).
    case refuse(LoaderError)
    /// An essential file (`RestartPolicy.essential`) cannot be kept running, for this reason:
    /// the host is told (`LoaderConfiguration.essentialLost`).
    case essentialLost(String)
}
