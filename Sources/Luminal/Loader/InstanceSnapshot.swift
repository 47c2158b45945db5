/// One instance of a photon file as it stands now (`Handler.instances`).
public struct InstanceSnapshot: Sendable, Hashable {
    /// Its number: 1 for the first.
    public let instance: Int
    /// Where its photons are in their life (the first one's, for a file of several photons).
    public let state: PhotonState
    /// The pid of its serving worker; 0 before the first.
    public let pid: Int32
    /// Its serving generation: 1 for the first.
    public let generation: Int
    /// How many times it was restarted after a failure.
    public let restarts: Int
    /// How long its generation has been up; nil once it ended.
    public let uptime: Duration?
    /// Calls sent to its serving worker and not yet answered: calls go to the instance with the fewest.
    public let callsInFlight: Int
    /// Calls sent to it since the file was loaded, whichever generation took them.
    public let calls: UInt64

    /// How `core` stands now.
    init(_ core: FileCore) {
        let now = ContinuousClock.now
        instance = core.instance
        let (record, worker) = core.read { lifecycle in
            (lifecycle.members.first.flatMap { lifecycle.photons[$0] }, lifecycle.serving?.connection)
        }
        state = record?.state ?? .ready
        pid = record?.pid ?? 0
        generation = record?.generation ?? 0
        restarts = record?.restarts ?? 0
        uptime = record.flatMap { $0.state.isFinal ? nil : $0.since.duration(to: now) }
        callsInFlight = worker?.callsInFlight ?? 0
        calls = core.routedCalls.load(ordering: .relaxed)
    }
}
