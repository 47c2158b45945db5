extension Result {
    /// The outcome of `body`, awaited.
    ///
    /// Task-group children build their results with this instead of returning from inside a
    /// `do`/`catch` around a typed-throwing call: Swift 6.3's optimizer miscompiles an async child
    /// closure that returns a tuple from inside such a `do` (release builds trapped on a wrong
    /// index or lost results).
    package init(awaiting body: () async throws(Failure) -> Success) async {
        do throws(Failure) {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
