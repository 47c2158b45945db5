/// How workers are held together.
public enum ContainmentMode: Sendable, Hashable {
    /// A cgroup v2 folder per worker generation where the supervisor may make one; the
    /// process-tree rules elsewhere.
    case automatic
    /// The process-tree rules always (process group, marker, subreaper).
    case processTree
}
