/// A photon file whose first load is under way: nothing of it serves yet, and it has not failed.
/// `status` lists it in state `loading` until it loads or fails.
public struct LoadingFile: Sendable {
    /// The photon file's path.
    public let path: String
    /// When its load began.
    public let since: ContinuousClock.Instant
}
