import LuminalSystem
import LuminalWire

/// Everything the Loader and its handlers can fail with. `message` is a whole sentence naming the
/// photon and file concerned, the cause, and where possible what to do.
public struct LoaderError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; new codes may be added.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name.
        public let rawValue: String
        /// A code with this name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// No photon of that name or file is loaded, or the path does not exist.
        public static let photonNotFound = Code(rawValue: "photonNotFound")
        /// The folder to load from does not exist or is not a folder.
        public static let directoryNotFound = Code(rawValue: "directoryNotFound")
        /// The path exists but is not a photon file (a folder without a manifest, a special file).
        public static let notAPhotonFile = Code(rawValue: "notAPhotonFile")
        /// The file is not executable by this user.
        public static let notExecutable = Code(rawValue: "notExecutable")
        /// The package manifest is unreadable or invalid.
        public static let invalidManifest = Code(rawValue: "invalidManifest")
        /// `posix_spawn` or a pipe failed.
        public static let spawnFailed = Code(rawValue: "spawnFailed")
        /// A listening socket the manifest declares could not be bound (its address in use or not
        /// allowed, its folder refused).
        public static let socketUnavailable = Code(rawValue: "socketUnavailable")
        /// One instance of a pool was not restarted: the photon file on disk is not the version
        /// the other instances run (reload the file to roll it to every instance).
        public static let versionChanged = Code(rawValue: "versionChanged")
        /// The worker exited before saying hello.
        public static let exitedBeforeHello = Code(rawValue: "exitedBeforeHello")
        /// No hello arrived within the handshake timeout.
        public static let handshakeTimeout = Code(rawValue: "handshakeTimeout")
        /// The worker speaks a protocol version this host does not support.
        public static let protocolMismatch = Code(rawValue: "protocolMismatch")
        /// The hello was well-formed but unusable (no photons, bad or repeated names).
        public static let invalidHello = Code(rawValue: "invalidHello")
        /// The worker declares no photon of the requested base or other classes.
        public static let noPhotonOfBase = Code(rawValue: "noPhotonOfBase")
        /// A photon name is already used by another loaded photon file.
        public static let duplicatePhotonName = Code(rawValue: "duplicatePhotonName")
        /// The worker broke the protocol and was killed.
        public static let protocolFault = Code(rawValue: "protocolFault")
        /// The worker exited while the request was in flight, or before it was sent.
        public static let workerExited = Code(rawValue: "workerExited")
        /// The photon must be started before it is called.
        public static let notStarted = Code(rawValue: "notStarted")
        /// The photon file is loaded already, or a load of it is under way: a command on it
        /// while it loads is refused, and so is `luminal load` of it (`loadPhoton(at:)` itself
        /// warns and returns `[]`, as the seed's loader did).
        public static let alreadyLoaded = Code(rawValue: "alreadyLoaded")
        /// The photon is being stopped or was unloaded.
        public static let unloaded = Code(rawValue: "unloaded")
        /// No reply arrived within the request's timeout.
        public static let timeout = Code(rawValue: "timeout")
        /// The task awaiting the reply was cancelled; the request was abandoned.
        public static let cancelled = Code(rawValue: "cancelled")
        /// The worker has too much waiting for it (it is not reading its requests): the call was
        /// refused at once, and the worker and its other calls carry on. See `LoaderConfiguration`.
        public static let overloaded = Code(rawValue: "overloaded")
        /// A request's frame is larger than the frame cap its worker reads (`LoaderConfiguration.frameCap`); it was not sent.
        public static let requestTooLarge = Code(rawValue: "requestTooLarge")
        /// An idempotent call was in flight in two generations of its worker that both ended on
        /// their own (crash, missed heartbeat): it is not sent a third time.
        public static let poisonCall = Code(rawValue: "poisonCall")
        /// The photon answered with an error; see `reply`.
        public static let photonError = Code(rawValue: "photonError")
        /// The photon is a plain executable and takes no calls.
        public static let noProtocol = Code(rawValue: "noProtocol")
        /// A reload failed at some step; the previous generation keeps serving. The message names the step.
        public static let reloadRolledBack = Code(rawValue: "reloadRolledBack")
        /// The loader is already watching a folder (the seed's ThreadManagerAlreadyRunning).
        public static let threadManagerAlreadyRunning = Code(rawValue: "threadManagerAlreadyRunning")
        /// A call reached a generation that was just replaced; `Handler.call` retries it on the new one.
        package static let retired = Code(rawValue: "retired")
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence naming the photon, the file and the cause.
    public let message: String
    /// The photon concerned, when there is one.
    public let photon: String?
    /// The photon file concerned, when there is one.
    public let file: String?
    /// The photon's own error reply, for `photonError`.
    public let reply: ReplyError?
    /// How the worker ended, for `workerExited` and `exitedBeforeHello`.
    public let exit: ExitStatus?
    /// The step a rolled-back reload failed at, for `reloadRolledBack`.
    public var step: ReloadStep?
    /// What it needed was held elsewhere for now: a spawn refused for lack of resources
    /// (`EAGAIN`, `ENOMEM`, `EMFILE`, `ENFILE`), a socket's address in use (`EADDRINUSE`).
    package var heldElsewhere = false

    /// Whether the failure may pass by itself: a worker too slow to say hello, a spawn refused
    /// for lack of resources, a socket's address in use. A photon file that failed to load so is
    /// tried again after the restart backoff.
    public var isTransient: Bool { code == .handshakeTimeout || heldElsewhere }

    /// An error with every detail given.
    public init(_ code: Code, _ message: String, photon: String? = nil, file: String? = nil,
                reply: ReplyError? = nil, exit: ExitStatus? = nil) {
        self.code = code
        self.message = message
        self.photon = photon
        self.file = file
        self.reply = reply
        self.exit = exit
    }

    /// The message.
    public var description: String { message }
}
