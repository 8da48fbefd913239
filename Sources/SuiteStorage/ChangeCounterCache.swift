import Synchronization

/// Values read from a database, by key, each valid for one value of the database's change counter
/// (``Database/changeCounter()``): when the counter moves (any commit, anywhere) the whole cache
/// is dropped, so an entry is never older than the database. The number of entries is capped; past
/// the cap the cache starts again empty. Forge's verifications and SuiteHTTP's API keys use it.
/// Its calls are inlinable, so that they are specialised for the caller's value type: a lookup is
/// on the path of every verification.
///
/// ```swift
/// let counter = try database.changeCounter()          // read before the value
/// if let counter, let known = cache.lookup(digest, counter: counter) { return known }
/// let value = try await database.pointRead { … }
/// if let counter { cache.store(value, for: digest, counter: counter) }
/// ```
public final class ChangeCounterCache<Value: Sendable>: Sendable {
    /// The most entries kept for one counter value.
    public let capacity: Int
    @usableFromInline let state = Mutex<(counter: Int64, entries: [String: Value])>((Int64.min, [:]))

    /// An empty cache of at most `capacity` entries.
    @inlinable public init(capacity: Int) { self.capacity = capacity }

    /// The value for `key` if it was read under `counter`.
    @inlinable public func lookup(_ key: String, counter: Int64) -> Value? {
        state.withLock { state in state.counter == counter ? state.entries[key] : nil }
    }

    /// Keeps `value`, read after the counter showed `counter`. A read made under an older counter
    /// than the cache's is dropped rather than emptying the newer entries (SQLite's counter only grows).
    @inlinable public func store(_ value: Value, for key: String, counter: Int64) {
        state.withLock { state in
            if counter < state.counter { return }
            if state.counter != counter || state.entries.count >= capacity {
                state = (counter, [:])
            }
            state.entries[key] = value
        }
    }
}
