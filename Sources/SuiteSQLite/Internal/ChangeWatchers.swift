import Foundation
internal import GRDB
import Synchronization

/// Read-only connections that never write, so that their `PRAGMA data_version` changes whenever
/// any other connection or process commits: the basis of ``SQLiteDatabase/changeCounter()``.
///
/// One connection serialised every caller (a `DatabaseQueue` is a serial dispatch queue, and a
/// caller that finds it busy blocks a thread of the cooperative pool). Several connections each
/// have their own `data_version`, so their values cannot be compared with one another; each
/// remembers the value it last saw, and any change bumps one shared, monotonic epoch, which is
/// what callers get. A read that starts after a commit finds its connection's value changed
/// (or that connection already bumped the epoch after that commit), so it always returns an epoch
/// newer than any returned before the commit.
final class ChangeWatchers: Sendable {
    private final class Watcher: Sendable {
        let connection: DatabaseQueue
        /// The `data_version` this connection showed last; nil before its first read.
        let lastSeen = Mutex<Int64?>(nil)
        init(_ connection: DatabaseQueue) { self.connection = connection }
    }

    private let watchers: [Watcher]
    private let epoch = Atomic<Int64>(0)
    private let next = Atomic<Int>(0)

    init(path: String, count: Int, busyTimeout: TimeInterval) throws {
        var readOnly = Configuration()
        readOnly.readonly = true
        readOnly.busyMode = .timeout(busyTimeout)
        watchers = try (0..<max(1, count)).map { _ in Watcher(try DatabaseQueue(path: path, configuration: readOnly)) }
    }

    /// The current epoch: different from every epoch returned before the latest commit.
    func current() throws -> Int64 {
        let start = next.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        for offset in 0..<watchers.count {
            let watcher = watchers[(start &+ offset) % watchers.count]
            if let epoch = try watcher.lastSeen.withLockIfAvailable({ lastSeen in try read(watcher, &lastSeen) }) {
                return epoch
            }
        }
        // Every connection is busy: wait for one.
        let watcher = watchers[start % watchers.count]
        return try watcher.lastSeen.withLock { lastSeen in try read(watcher, &lastSeen) }
    }

    func close() throws {
        for watcher in watchers { try watcher.connection.close() }
    }

    private func read(_ watcher: Watcher, _ lastSeen: inout Int64?) throws -> Int64 {
        let version = try watcher.connection.inDatabase { db in
            try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version"))
        }
        if version != lastSeen {
            lastSeen = version
            epoch.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }
        return epoch.load(ordering: .sequentiallyConsistent)
    }
}
