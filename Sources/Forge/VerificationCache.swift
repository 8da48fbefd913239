import Synchronization
import SuiteStorage

/// What verifications read, by key digest, valid for one value of the database's change counter.
///
/// Every entry belongs to the counter value it was read under; when the counter moves (any commit,
/// anywhere) the whole cache is dropped, so an entry is never older than the database. The number
/// of entries is capped; past the cap the cache starts again empty.
final class VerificationCache: Sendable {
    struct Entry: Sendable {
        var licence: Licence?
        var clientStatus: ClientStanding?
    }

    static let capacity = 100_000

    private let state = Mutex<(counter: Int64, entries: [String: Entry])>((Int64.min, [:]))

    /// The entry for `digest` if it was read under `counter`.
    func lookup(_ digest: String, counter: Int64) -> Entry? {
        state.withLock { state in state.counter == counter ? state.entries[digest] : nil }
    }

    /// Keeps `entry`, read after the counter showed `counter`. A read made under an older counter
    /// than the cache's is dropped rather than emptying the newer entries (SQLite's counter only grows).
    func store(_ entry: Entry, for digest: String, counter: Int64) {
        state.withLock { state in
            if counter < state.counter { return }
            if state.counter != counter || state.entries.count >= Self.capacity {
                state = (counter, [:])
            }
            state.entries[digest] = entry
        }
    }
}
