/// How one worker generation is contained and limited, for `status` and `Handler.containment`.
public struct ContainmentReport: Sendable, Hashable {
    /// What holds the worker's processes together.
    public enum Holder: Sendable, Hashable {
        /// Its own cgroup v2 folder: stopping it kills the cgroup, and no descendant can leave.
        case cgroup(path: String)
        /// The process-tree rules (process group, marker, subreaper; ARCHITECTURE.md §4), because
        /// this host gives no cgroup, for the reason given.
        case processTree(reason: String)
    }

    /// What holds its processes.
    public let holder: Holder
    /// Every limit set, and whether it is enforced.
    public let limits: [LimitReport]
    /// The user and group it runs as, when not the supervisor's (e.g. "nobody:nogroup").
    public let identity: String?
}
