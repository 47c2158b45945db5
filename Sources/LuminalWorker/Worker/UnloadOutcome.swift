import LuminalSystem

/// How unloading one photon file went.
public struct UnloadOutcome: Sendable, Hashable {
    /// Which step ended the worker.
    public enum Ending: String, Sendable, Hashable {
        /// Finalizers ran and it exited on `shutdown` within the stop timeout.
        case clean
        /// It ended on SIGTERM.
        case terminated
        /// It needed SIGKILL.
        case killed
        /// It had already exited (crash or protocol fault) before the unload.
        case alreadyEnded
        /// The file had failed to load (`FailedFile`): nothing ran, and its record is forgotten.
        case notLoaded
    }

    /// The photon file.
    public let file: String
    /// The photons it hosted.
    public let photons: [String]
    /// Which step ended it.
    public let ending: Ending
    /// The worker's exit status.
    public let exit: ExitStatus?
    /// Finalizers that failed or timed out: photon → reason.
    public let finalizerErrors: [String: String]

    package init(file: String, photons: [String], ending: Ending, exit: ExitStatus?, finalizerErrors: [String: String]) {
        self.file = file
        self.photons = photons
        self.ending = ending
        self.exit = exit
        self.finalizerErrors = finalizerErrors
    }
}
