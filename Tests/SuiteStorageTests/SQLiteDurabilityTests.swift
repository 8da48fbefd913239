import SuiteCore
import Foundation
import SuiteSQLite
import SuiteStorage
import SuiteTestSupport
import Testing

/// A fresh folder for a SQLite file, removed afterwards.
func withFolder<T>(_ body: (String) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clientsuite-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    return try await body(folder)
}

/// `PRAGMA synchronous` as the writing connection sees it, from inside a write transaction.
private func synchronousInForce(_ database: SQLiteDatabase) async throws -> Int64? {
    try await database.write { tx in try tx.queryInt64("PRAGMA synchronous") }
}

@Suite struct SQLiteDurabilityTests {
    @Test func aFileDatabaseCommitsWithSynchronousFullByDefault() async throws {
        try await withFolder { folder in
            let database = try SQLiteDatabase(path: "\(folder)/d.sqlite")
            #expect(database.durability == .full)
            #expect(try await synchronousInForce(database) == 2)
            // Still in force after writes, on the connection that writes.
            try await database.write { tx in try tx.execute("CREATE TABLE t (x INTEGER)") }
            try await database.write { tx in try tx.execute("INSERT INTO t (x) VALUES (1)") }
            #expect(try await synchronousInForce(database) == 2)
            #expect(try await database.commitDurability().setting == "synchronous=FULL")
            try await database.close()
        }
    }

    @Test func normalIsAnExplicitOptInAndIsReallyInForce() async throws {
        try await withFolder { folder in
            let database = try SQLiteDatabase(path: "\(folder)/d.sqlite", durability: .normal)
            #expect(try await synchronousInForce(database) == 1)
            #expect(try await database.commitDurability().setting == "synchronous=NORMAL")
            try await database.close()
            // The same file opened again with the default is FULL again: the setting is per opening.
            let again = try SQLiteDatabase(path: "\(folder)/d.sqlite")
            #expect(try await synchronousInForce(again) == 2)
            try await again.close()
        }
    }

    @Test func theLocationStringCarriesDurabilityAndBusyTimeout() async throws {
        try await withFolder { folder in
            let normal = try SQLiteDatabase(location: "\(folder)/d.sqlite?synchronous=normal&busy_timeout=2")
            #expect(normal.durability == .normal && normal.path == "\(folder)/d.sqlite")
            #expect(try await synchronousInForce(normal) == 1)
            try await normal.close()
            let full = try SQLiteDatabase(location: "\(folder)/d.sqlite?synchronous=FULL")
            #expect(try await synchronousInForce(full) == 2)
            try await full.close()
            let memory = try SQLiteDatabase(location: ":memory:")
            #expect(try await synchronousInForce(memory) == 2)
            try await memory.close()
            for (location, mentions) in [("\(folder)/d.sqlite?synchronous=fast", "synchronous must be full or normal"),
                                         ("\(folder)/d.sqlite?busy_timeout=-1", "busy_timeout must be between 0 and 3600"),
                                         ("\(folder)/d.sqlite?journal=off", "unknown SQLite option \"journal\""),
                                         ("?synchronous=full", "the database location is empty")] {
                let error = #expect(throws: StorageError.self) { try SQLiteDatabase(location: location) }
                #expect(error?.code == .invalidLocation, "\(location)")
                #expect(error?.description.contains(mentions) == true, "\(location): \(String(describing: error))")
            }
            // Nothing was created for a refused location.
            #expect(!FileManager.default.fileExists(atPath: "\(folder)/d.sqlite?synchronous=fast"))
        }
    }
}
