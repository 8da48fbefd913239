import Synchronization

/// One reading of a database's change counter (``Database/changeCounter()``), shared by every
/// cache lookup in one unit of work — a request — instead of one reading per lookup. A request
/// that checks its API key and then verifies a licence reads the counter once: each reading costs
/// a SQLite read transaction's locks, and both caches are then as current as the request's start.
///
/// A write committed by the unit of work itself drops the reading (the engine calls ``forget()``),
/// so the unit of work always sees its own writes. A commit elsewhere during the unit of work is
/// seen by the next one, as if this one had run a moment earlier. A value read after the reading
/// and kept under it is never older than the reading, so a cache stays correct.
///
/// ```swift
/// try await ChangeCounterReading.sharing {
///     try await next(request, context)   // every changeCounter() inside reads once
/// }
/// ```
public final class ChangeCounterReading: Sendable {
    /// The reading of the unit of work running now, if it shares one.
    @TaskLocal public static var current: ChangeCounterReading?

    private let state = Mutex<(database: ObjectIdentifier, counter: Int64?)?>(nil)

    /// An empty reading.
    public init() {}

    /// Runs `body` with a fresh shared reading.
    public static func sharing<T>(_ body: () async throws -> T) async rethrows -> T {
        try await $current.withValue(ChangeCounterReading(), operation: body)
    }

    /// The counter of the database `database`: read with `read` the first time, then the same
    /// value until ``forget()``. A reading of another database is not shared: `read` runs.
    public func counter(of database: ObjectIdentifier, read: () throws -> Int64?) rethrows -> Int64? {
        try state.withLock { state in
            if let state, state.database == database { return state.counter }
            let counter = try read()
            if state == nil { state = (database, counter) }
            return counter
        }
    }

    /// Drops the reading: the unit of work has committed a write.
    public func forget() {
        state.withLock { $0 = nil }
    }
}
