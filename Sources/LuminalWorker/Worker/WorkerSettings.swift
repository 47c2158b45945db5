/// What one worker is started and held with, beside its photon file: the loader's defaults
/// (`LoaderConfiguration`), which a manifest may override per file.
package struct WorkerSettings: Sendable {
    /// How long it has to send a valid hello.
    package var handshakeTimeout: Duration
    /// The largest frame it may send or be sent.
    package var frameCap: Int
    /// The most bytes of calls that may wait to be written to it.
    package var queuedCallBytesLimit: Int
    /// The most calls it may have in flight.
    package var callsInFlightLimit: Int
    /// Its resource limits, under its manifest's.
    package var limits: ResourceLimits
    /// The user and group it runs as, under its manifest's.
    package var identity: PhotonIdentity
    /// How its processes are held together.
    package var containment: ContainmentMode

    package init(handshakeTimeout: Duration, frameCap: Int, queuedCallBytesLimit: Int, callsInFlightLimit: Int, limits: ResourceLimits, identity: PhotonIdentity, containment: ContainmentMode) {
        self.handshakeTimeout = handshakeTimeout
        self.frameCap = frameCap
        self.queuedCallBytesLimit = queuedCallBytesLimit
        self.callsInFlightLimit = callsInFlightLimit
        self.limits = limits
        self.identity = identity
        self.containment = containment
    }
}
