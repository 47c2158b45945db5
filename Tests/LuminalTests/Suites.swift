import Testing

/// Every supervisor test runs in one serialized suite: several count the test process's pipes and
/// children, which another test's workers would disturb.
@Suite(.serialized) struct Supervisor {}
