internal import PostgresNIO
import SuiteCore
import SuiteStorage
import Synchronization

/// The statements prepared on one connection (SQL `PREPARE`), by text and parameter types.
///
/// PostgresNIO sends every query as an unnamed statement, so the server parses, analyses and plans
/// it on every run. A statement prepared once per connection is only looked up and bound after
/// that, and after five runs PostgreSQL may keep one generic plan for it: that is most of the
/// server's CPU for the suite's short statements. Only `SELECT`, `INSERT`, `UPDATE`, `DELETE`,
/// `WITH` and `VALUES` statements are prepared (PostgreSQL prepares nothing else), and at most
/// ``capacity`` per connection; the rest go out as before.
///
/// A connection is used by one transaction at a time, and a name is remembered only once the
/// server answered its `PREPARE`: a `PREPARE` that never ran (an earlier statement failed, the
/// connection broke) leaves nothing behind here. A prepared statement outlives a rolled-back
/// transaction, as PostgreSQL keeps it for the session.
///
/// A name is made from a hash of the statement's text and parameter types (and a generation,
/// moved on when the names are forgotten), never from a counter: should a pooler hand this session's
/// `EXECUTE` to another server session, a name there either does not exist or is the same
/// statement, so the wrong statement can never run.
final class PreparedStatements: Sendable {
    let capacity: Int
    private let state = Mutex(State())

    private struct State {
        var names: [String: String] = [:]
        /// Moved on by ``forgetAll()``, so that a statement prepared again gets a new name while the
        /// server may still hold the old one.
        var generation = 0
    }

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// A statement of the transaction: the query to send, and the `PREPARE` to send before it the
    /// first time.
    struct Statement {
        var query: PostgresQuery
        var preparing: Preparation?

        /// `text` sent as it is, with `values` bound: never prepared.
        static func unprepared(_ text: String, _ values: [SQLValue] = []) -> Statement {
            Statement(query: PreparedStatements.query(text, values), preparing: nil)
        }
    }

    /// A `PREPARE` sent ahead of the statement that executes it.
    struct Preparation {
        var key: String
        var name: String
        var query: PostgresQuery
    }

    /// How a statement goes out: `EXECUTE` of a statement prepared on this connection (after its
    /// `PREPARE`, the first time: in this transaction or before), or unprepared.
    /// `pending` holds the names this transaction's `PREPARE`s took that the server has not answered yet.
    func statement(_ text: String, _ values: [SQLValue], pending: inout [String: String]) -> Statement {
        guard Self.isPreparable(text) else { return .unprepared(text, values) }
        let key = Self.key(text, values)
        if let name = pending[key] ?? state.withLock({ $0.names[key] }) {
            return Statement(query: PostgresQuery(unsafeSQL: Self.execute(name, values)), preparing: nil)
        }
        let name = state.withLock { state -> String? in
            guard state.names.count + pending.count < capacity else { return nil }
            return "clientsuite_\(state.generation)_" + Self.digest(key)
        }
        guard let name else { return .unprepared(text, values) }
        pending[key] = name
        let types = values.map(Self.typeName).joined(separator: ", ")
        let prepare = PostgresQuery(unsafeSQL: "PREPARE \(name)" + (values.isEmpty ? "" : " (\(types))") + " AS " + text)
        return Statement(query: PostgresQuery(unsafeSQL: Self.execute(name, values)),
                         preparing: Preparation(key: key, name: name, query: prepare))
    }

    /// Remembers a statement whose `PREPARE` the server has run.
    func prepared(_ preparation: Preparation) {
        state.withLock { $0.names[preparation.key] = preparation.name }
    }

    /// Forgets every statement after the server refused to run one of them as prepared (a table
    /// changed the shape of a prepared result): the next transaction prepares them again, under
    /// new names.
    func forgetAll() {
        state.withLock { state in
            state.names = [:]
            state.generation += 1
        }
    }

    // MARK: Internals

    /// Whether PostgreSQL can prepare `text`: its first word is one of the statements `PREPARE` takes.
    static func isPreparable(_ text: String) -> Bool {
        var word: [UInt8] = []
        for byte in text.utf8 {
            if word.isEmpty && (byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0x28) { continue }
            guard (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) else { break }
            word.append(byte & 0xDF)  // upper case
            if word.count > 6 { return false }
        }
        switch String(decoding: word, as: UTF8.self) {
        case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES": return true
        default: return false
        }
    }

    /// The statement's text and its parameters' types, as the server sees them.
    private static func key(_ text: String, _ values: [SQLValue]) -> String {
        var key = text
        key.append("\u{0}")
        for value in values {
            switch value {
            case .null: key.append("n")
            case .int: key.append("i")
            case .double: key.append("d")
            case .text: key.append("t")
            case .blob: key.append("b")
            }
        }
        return key
    }

    /// 64 bits of FNV-1a over `key`, as 16 hex digits: the statements are the suite's own, so a
    /// collision between two of them is out of reach (below one in 10^13 for a thousand statements).
    static func digest(_ key: String) -> String {
        withUnsafeBytes(of: fnv1a64(key).bigEndian) { lowercaseHex($0) }
    }

    /// The parameter type a value is sent as (a NULL's type is inferred, as for an unnamed statement).
    private static func typeName(_ value: SQLValue) -> String {
        switch value {
        case .null: "unknown"
        case .int: "bigint"
        case .double: "double precision"
        case .text: "text"
        case .blob: "bytea"
        }
    }

    /// `EXECUTE name (literal, …)`. PostgreSQL takes no bound parameters in `EXECUTE`, so the
    /// values go in as quoted literals, each converted to the type its `PREPARE` declared, as the
    /// server converts a bound parameter sent as text.
    static func execute(_ name: String, _ values: [SQLValue]) -> String {
        guard !values.isEmpty else { return "EXECUTE \(name)" }
        var text = "EXECUTE \(name) ("
        for (index, value) in values.enumerated() {
            if index > 0 { text += ", " }
            switch value {
            case .null: text += "NULL"
            case .int(let number): text += "'\(number)'"
            case .double(let number):
                // Swift writes the shortest text that reads back exactly; PostgreSQL spells the specials its way.
                text += number.isNaN ? "'NaN'" : number.isInfinite ? (number < 0 ? "'-Infinity'" : "'Infinity'") : "'\(number)'"
            case .text(let string): text += literal(string)
            case .blob(let bytes): text += "E'\\\\x" + lowercaseHex(bytes) + "'"
            }
        }
        return text + ")"
    }

    /// A string literal that reads back as `string` whether `standard_conforming_strings` is on or
    /// off: an escape string (`E'…'`) with every backslash and quote doubled. Text reaches here
    /// only without NUL (``SQLValue/requireStorable(_:)``), and the connection's encoding is UTF-8,
    /// where no byte of a multi-byte character is a quote or a backslash.
    static func literal(_ string: String) -> String {
        var bytes: [UInt8] = [0x45, 0x27]  // E'
        bytes.reserveCapacity(string.utf8.count + 3)
        for byte in string.utf8 {
            if byte == 0x27 || byte == 0x5C { bytes.append(byte) }
            bytes.append(byte)
        }
        bytes.append(0x27)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The driver's form of a statement.
    static func query(_ text: String, _ values: [SQLValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: bindings.appendNull()
            case .int(let number): bindings.append(number)
            case .double(let number): bindings.append(number)
            case .text(let string): bindings.append(string)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }
}

/// The prepared statements of every open connection of a database, each found by its connection.
final class ConnectionStatements: Sendable {
    /// Statements per connection at most; 0: none are prepared.
    let capacity: Int
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    private struct Entry {
        weak var connection: PostgresConnection?
        let statements: PreparedStatements
    }

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The statements prepared on `connection`; nil when none are to be prepared. A connection not
    /// seen before (or a new one at a closed one's address) starts with none.
    func statements(on connection: PostgresConnection) -> PreparedStatements? {
        guard capacity > 0 else { return nil }
        let id = ObjectIdentifier(connection)
        return entries.withLock { entries in
            if let entry = entries[id], entry.connection === connection { return entry.statements }
            // Forget the connections that have gone, so the table stays as small as the pool.
            entries = entries.filter { $0.value.connection != nil }
            let statements = PreparedStatements(capacity: capacity)
            entries[id] = Entry(connection: connection, statements: statements)
            return statements
        }
    }
}
