import Foundation
import PropertyBased
import SuiteCore
import SuitePostgres
import SuiteStorage
import SuiteTestSupport
import Testing

/// The PostgreSQL driver prepares each statement once per connection (`statement_cache`) and then
/// sends `EXECUTE name (literals…)`: values must read back exactly whatever they hold, a statement
/// the server no longer has is prepared again, and nothing is prepared when the cache is off.
@Suite(.shrinking(false)) struct PostgresPreparedStatementTests {
    /// The statements of this session that the driver prepared, by their text.
    static func prepared(_ tx: any Transaction) throws -> [String] {
        try tx.query("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'clientsuite\\_%' ORDER BY name")
            .map { try $0.string("statement") }
    }

    static let hostile: [String] = [
        "", "'", "''", "\\", "\\\\", "\\'", "'\\", "E'x'", "'); DROP TABLE kinds; --", "$$", "$1", "$tag$ x $tag$",
        "line\nbreak\tand tab\r", "\u{7F}\u{1}\u{1F}", "日本語 🎉 Ω", "\u{FEFF}bom", String(repeating: "'\\", count: 8_000),
    ]

    @Test func valuesOfEveryKindReadBackExactlyWhateverTheyHold() async throws {
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1")]) { database in
            try await database.write { tx in
                try tx.execute("CREATE TABLE kinds (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, b BYTEA)")
            }
            let doubles: [Double] = [0, -0.0, 0.1, 1.5, -2.25e-8, 5e-324, .leastNormalMagnitude, .greatestFiniteMagnitude,
                                     .infinity, -.infinity, .nan]
            let integers: [Int64] = [0, -1, 1, .min, .max, 1 << 53 + 1]
            let blobs: [[UInt8]] = [[], Array(0...255), [0x27, 0x5C, 0x00, 0x27], Array("\\x41'".utf8)]
            let rows: [(Int64, Int64?, Double?, String?, [UInt8]?)] = Self.hostile.enumerated().map { index, text in
                (Int64(index), integers[index % integers.count], doubles[index % doubles.count], text, blobs[index % blobs.count])
            } + [(1_000, nil, nil, nil, nil)]
            // Twice over: first prepared (PREPARE, then EXECUTE), then run from the connection's cache;
            // the second time with standard_conforming_strings off, which changes how '\' reads in a plain literal.
            for pass in 0..<2 {
                let inserted = try await database.write { tx in
                    if pass == 1 { try tx.execute("SET LOCAL standard_conforming_strings = off") }
                    return try rows.map { id, integer, double, text, blob in
                        try tx.queryFirst("""
                            INSERT INTO kinds (id, i, d, t, b)
                            VALUES (\(id + Int64(pass) * 10_000), \(integer), \(double), \(text), \(blob.map(SQLValue.blob)))
                            RETURNING id, i, d, t, b
                            """)
                    }
                }
                for ((id, integer, double, text, blob), row) in zip(rows, inserted) {
                    try Self.expect(try #require(row), id: id + Int64(pass) * 10_000, integer, double, text, blob)
                }
            }
            let found = try await database.read { tx in
                try rows.map { id, integer, double, text, blob in
                    // Found by each value (NaN equals NaN in PostgreSQL), and read back the same.
                    try tx.query("""
                        SELECT id, i, d, t, b FROM kinds WHERE i IS NOT DISTINCT FROM \(integer) AND d IS NOT DISTINCT FROM \(double)
                          AND t IS NOT DISTINCT FROM \(text) AND b IS NOT DISTINCT FROM \(blob.map(SQLValue.blob)) ORDER BY id
                        """)
                }
            }
            for ((id, integer, double, text, blob), rows) in zip(rows, found) {
                #expect(rows.count == 2, "row \(id)")
                for (pass, row) in rows.enumerated() {
                    try Self.expect(row, id: id + Int64(pass) * 10_000, integer, double, text, blob)
                }
            }
            // The insert and the select, each once with values and once with NULLs (other parameter
            // types), and the query that lists them.
            let prepared = try await database.read { tx in try Self.prepared(tx) }
            #expect(prepared.count == 5, "\(prepared)")
        }
    }

    static let anyScalar = Gen.oneOf(
        Gen.unicodeScalar(in: "\u{1}"..."\u{D7FF}"),
        Gen.unicodeScalar(in: "\u{E000}"..."\u{10FFFF}"),
        // Often a quote, a backslash or a dollar sign: what a literal must escape, or could be confused by.
        Gen.unicodeScalar(in: "'"..."'"), Gen.unicodeScalar(in: "\\"..."\\"), Gen.unicodeScalar(in: "$"..."$"))

    @Test func randomTextAndBytesReadBackExactly() async throws {
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "2")]) { database in
            try await database.write { tx in try tx.execute("CREATE TABLE random (id BIGSERIAL PRIMARY KEY, t TEXT NOT NULL, b BYTEA NOT NULL)") }
            let text = Self.anyScalar.map(Character.init).string(of: 0...60)
            let bytes = Gen.uint8().array(of: 0...40)
            await propertyCheck(count: 200, input: text, bytes) { text, bytes in
                do {
                    let row = try await database.write { tx in
                        try tx.queryFirst("INSERT INTO random (t, b) VALUES (\(text), \(SQLValue.blob(bytes))) RETURNING t, b, t = \(text) AS same")
                    }
                    #expect(try row?.string("t") == text)
                    #expect(try row?.blob("b") == bytes)
                    #expect(try row?.bool("same") == true)
                } catch {
                    Issue.record("\(String(reflecting: error))")
                }
            }
        }
    }

    @Test func aStatementIsPreparedOncePerConnectionAndNotAtAllWhenTheCacheIsOff() async throws {
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1")]) { database in
            try await database.write { tx in try tx.execute("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)") }
            for id in 1...6 {
                try await database.write { tx in try tx.execute("INSERT INTO notes (id, body) VALUES (\(Int64(id)), \("note \(id)"))") }
            }
            let statements = try await database.read { tx in try Self.prepared(tx) }
            #expect(statements.filter { $0.contains("INSERT INTO notes") }.count == 1)
            #expect(try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM notes") } == 6)
        }
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1"), ("statement_cache", "0")]) { database in
            try await database.write { tx in try tx.execute("CREATE TABLE notes (id BIGINT PRIMARY KEY)") }
            for id in 1...3 { try await database.write { tx in try tx.execute("INSERT INTO notes (id) VALUES (\(Int64(id)))") } }
            #expect(try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM pg_prepared_statements") } == 0)
        }
    }

    @Test func aCacheOfTwoPreparesTwoStatementsAndSendsTheRestAsTheyAre() async throws {
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1"), ("statement_cache", "2")]) { database in
            let answers = try await database.read { tx in
                try (1...5).map { n in try tx.queryInt64("SELECT \(Int64(n)) * \(Int64(n)) + \(Int64(n)) AS v") }
            }
            #expect(answers == [2, 6, 12, 20, 30])
            #expect(try await database.read { tx in try Self.prepared(tx).count } == 2)
        }
    }

    @Test func aStatementTheServerDroppedOrATableChangeReshapedIsPreparedAgain() async throws {
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1")]) { database in
            try await database.write { tx in
                try tx.execute("CREATE TABLE items (id BIGINT PRIMARY KEY)")
                try tx.execute("INSERT INTO items (id) VALUES (1)")
            }
            let everything = { @Sendable (tx: any Transaction) throws -> [Row] in try tx.query("SELECT * FROM items WHERE id >= \(Int64(0))") }
            #expect(try await database.read(everything).count == 1)
            // Dropped behind the driver's back (as a pooler's DISCARD ALL would): a write and a read both run again.
            try await database.write { tx in try tx.execute("DEALLOCATE ALL") }
            #expect(try await database.write(everything).count == 1)
            try await database.write { tx in try tx.execute("DEALLOCATE ALL") }
            #expect(try await database.read(everything).count == 1)
            // A new column changes what `SELECT *` returns: the server refuses the old plan, and the statement is prepared again.
            try await database.write { tx in try tx.execute("ALTER TABLE items ADD COLUMN label TEXT NOT NULL DEFAULT 'x'") }
            let rows = try await database.read(everything)
            #expect(try rows.map { try $0.string("label") } == ["x"])
        }
    }

    /// Names come from the statement (a hash of its text and types), never from a counter: two
    /// databases name a statement alike, other statements differently, and a session that already
    /// holds the name (as one behind a pooler may) runs that same statement.
    @Test func aStatementIsNamedForItsTextSoASessionThatHasTheNameRunsTheSameStatement() async throws {
        let names = try await [0, 1].asyncMap { _ in
            try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1")]) { database in
                try await database.read { tx in
                    _ = try tx.queryInt64("SELECT \(Int64(1)) + \(Int64(2)) AS v")
                    _ = try tx.queryInt64("SELECT \(Int64(1)) * \(Int64(2)) AS v")
                    return try tx.query("SELECT name FROM pg_prepared_statements WHERE statement LIKE '%AS v' ORDER BY statement")
                        .map { try $0.string("name") }
                }
            }
        }
        #expect(names[0] == names[1] && names[0].count == 2 && names[0][0] != names[0][1], "\(names)")
        #expect(names[0].allSatisfy { $0.wholeMatch(of: /clientsuite_0_[0-9a-f]{16}/) != nil }, "\(names)")

        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1")]) { database in
            let sum = { @Sendable (tx: any Transaction) throws -> Int64? in try tx.queryInt64("SELECT \(Int64(40)) + \(Int64(2)) AS v") }
            #expect(try await database.read(sum) == 42)
            let first = try #require(try await database.read { tx in
                try tx.queryFirst("SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE '%AS v'")
            })
            let name = try first.string("name"), text = try first.string("statement")
            // The server forgets the statement; the driver prepares it again under generation 1. Before
            // it does, the session gets that name already, holding the same statement, as a pooler's
            // other session would: the PREPARE is refused (42P05) and the read runs again, executing it.
            let next = name.replacingOccurrences(of: "clientsuite_0_", with: "clientsuite_1_")
            try await database.write { tx in
                try tx.execute(SQL(raw: "DEALLOCATE \(name)"))
                try tx.execute(SQL(raw: text.replacingOccurrences(of: "PREPARE \(name)", with: "PREPARE \(next)")))
            }
            #expect(try await database.read(sum) == 42)
            #expect(try await database.read(sum) == 42)
            let held = try await database.read { tx in
                try tx.query("SELECT name FROM pg_prepared_statements WHERE statement LIKE '%AS v'").map { try $0.string("name") }
            }
            #expect(held == [next])
        }
    }

    @Test func aPrepareThatFailsLeavesNothingBehindAndAFailedStatementsValuesStayOutOfTheError() async throws {
        try await Engine.postgres.withDatabase(inMemory: false, postgresOptions: [("pool", "1")]) { database in
            let read = { @Sendable (tx: any Transaction) throws -> Int64? in try tx.queryInt64("SELECT count(*) FROM later WHERE id > \(Int64(0))") }
            await #expect(throws: StorageError.self) { try await database.read(read) }
            #expect(try await database.read { tx in try Self.prepared(tx) }.filter { $0.contains("later") }.isEmpty)
            try await database.write { tx in
                try tx.execute("CREATE TABLE later (id BIGINT PRIMARY KEY, secret TEXT NOT NULL)")
                try tx.execute("INSERT INTO later (id, secret) VALUES (1, 'first')")
            }
            #expect(try await database.read(read) == 1)

            let error = await #expect(throws: StorageError.self) {
                try await database.write { tx in try tx.execute("INSERT INTO later (id, secret) VALUES (\(Int64(1)), \("s3cr3t-value"))") }
            }
            #expect(error?.code == .uniqueViolation)
            #expect(error?.underlying?.contains("s3cr3t-value") == false, "\(error?.underlying ?? "")")
            #expect(!(error?.description.contains("s3cr3t-value") ?? true))
        }
    }

    @Test func badStatementCacheSizesAreRefusedWithAClearMessage() throws {
        for value in ["-1", "abc", "10001"] {
            #expect {
                _ = try PostgresDatabase(url: "postgres://app@127.0.0.1:1/app?sslmode=disable&statement_cache=\(value)")
            } throws: { error in
                (error as? StorageError)?.code == .invalidLocation
                    && (error as? StorageError)?.message == "statement_cache must be between 0 (off) and 10000 statements"
            }
        }
    }

    private static func expect(_ row: Row, id: Int64, _ integer: Int64?, _ double: Double?, _ text: String?, _ blob: [UInt8]?,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try row.int64("id") == id, sourceLocation: sourceLocation)
        #expect(try row.optionalInt64("i") == integer, "row \(id)", sourceLocation: sourceLocation)
        let readDouble: Double? = if case .null = row["d"] { nil } else { try row.double("d") }
        if let double, double.isNaN {
            #expect(readDouble?.isNaN == true, "row \(id)", sourceLocation: sourceLocation)
        } else {
            #expect(readDouble == double && readDouble?.sign == double?.sign, "row \(id)", sourceLocation: sourceLocation)
        }
        #expect(try row.optionalString("t") == text, "row \(id)", sourceLocation: sourceLocation)
        #expect(try row.optionalBlob("b") == blob, "row \(id)", sourceLocation: sourceLocation)
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
