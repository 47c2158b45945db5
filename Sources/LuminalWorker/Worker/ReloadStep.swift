/// The steps of bringing up a new generation, as a rolled-back reload names them.
public enum ReloadStep: String, Sendable, Hashable {
    /// Reading the photon file as it is now (gone, not executable, bad manifest).
    case resolve
    /// Binding the listening sockets its manifest declares (in use, not allowed, a folder refused).
    case sockets
    /// Starting the process.
    case spawn
    /// Waiting for a valid hello (exit, timeout, wrong protocol, bad hello, protocol fault).
    case handshake
    /// Choosing its photons (none of the base, a name another file uses).
    case validate
    /// Running the start routines of the photons that were started.
    case start
    /// Another photon file of the same group reload failed.
    case group
}
