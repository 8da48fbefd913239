import Foundation
internal import GRDB
import Synchronization

/// The read-only connections ``SQLiteDatabase/pointRead(_:)`` uses on the calling thread.
///
/// They are not the pool's readers on purpose. A point read blocks its thread while it waits for
/// a connection; if it waited for one of the pool's readers, it could wait for an async read that
/// holds one until a Swift concurrency thread resumes it, while every such thread is blocked in a
/// point read: a deadlock (seen under 16 concurrent HTTP requests on 2 cores). Here a connection
/// is only ever held by a thread that runs its read to the end without awaiting, and a point read
/// that finds none idle opens another, so it never waits for anyone.
final class PointReaders: Sendable {
    private let path: String
    private let busyTimeout: TimeInterval
    private let idle = Mutex<[DatabaseQueue]>([])

    init(path: String, busyTimeout: TimeInterval) {
        self.path = path
        self.busyTimeout = busyTimeout
    }

    /// Runs `body` in a read-only transaction (one snapshot) on an idle connection, or a new one.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        let queue = try idle.withLock { $0.popLast() } ?? open()
        defer { idle.withLock { $0.append(queue) } }
        return try queue.inDatabase { db in
            var value: T?
            try db.inTransaction(.deferred) {
                value = try body(db)
                return .commit
            }
            return value!
        }
    }

    /// Closes the idle connections (the database is closing: none is in use).
    func close() throws {
        for queue in idle.withLock({ queues in defer { queues = [] }; return queues }) { try queue.close() }
    }

    private func open() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "clientsuite.point-read"
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}
