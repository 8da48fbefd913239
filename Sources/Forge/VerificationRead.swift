import SuiteStorage

/// What one verification read: the licence with the key's digest, and its client's standing. Kept
/// in a ``ChangeCounterCache`` by key digest (100,000 at most), valid until the next commit.
struct VerificationRead: Sendable {
    var licence: Licence?
    var clientStatus: ClientStanding?
}
