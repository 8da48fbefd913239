public import SuiteCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value bound to a SQL statement parameter. Booleans are stored as integers 0/1 on every
/// engine, instants as ``Timestamp`` milliseconds, so one statement serves SQLite and PostgreSQL.
public enum SQLValue: Hashable, Sendable {
    /// SQL `NULL`.
    case null
    /// A 64-bit integer (also booleans and timestamps).
    case int(Int64)
    /// A floating-point number.
    case double(Double)
    /// Text.
    case text(String)
    /// Bytes.
    case blob([UInt8])
}

extension SQLValue {
    /// Throws ``StorageError/Code/invalidText`` when a text value holds the NUL character
    /// (U+0000). PostgreSQL refuses such text, so both drivers check before a statement runs and
    /// every engine gives the same answer.
    public static func requireStorable(_ values: [SQLValue]) throws {
        for case .text(let text) in values
        where text.utf8.withContiguousStorageIfAvailable({ $0.isEmpty ? false : memchr($0.baseAddress!, 0, $0.count) != nil })
            ?? text.utf8.contains(0) {
            throw StorageError(code: .invalidText, message: "Invalid text: it may not contain the NUL character (U+0000)")
        }
    }
}

/// A type that can be bound as a SQL parameter.
public protocol SQLBindable {
    /// The value to bind.
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable { public var sqlValue: SQLValue { .int(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .int(Int64(self)) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .double(self) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension Refid: SQLBindable { public var sqlValue: SQLValue { .text(rawValue) } }
extension Timestamp: SQLBindable { public var sqlValue: SQLValue { .int(milliseconds) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    /// The wrapped value's SQL value, or `NULL` for nil.
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// A SQL statement written once, with its parameters bound, for every engine.
///
/// Interpolated values become bound parameters (`?` on SQLite, `$1…` on PostgreSQL), never
/// text; `\(raw:)` splices trusted SQL text such as a dialect fragment; `\(SQL)` nests.
///
/// ```swift
/// let sql: SQL = "SELECT name FROM client_clients WHERE refid = \(refid) AND status = \(status.rawValue)"
/// ```
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    enum Fragment: Sendable {
        case text(String)
        case bind(SQLValue)
    }

    var fragments: [Fragment]

    /// A literal statement: its text is SQL, with no parameters.
    public init(stringLiteral value: String) { fragments = [.text(value)] }

    /// An interpolated statement: the literal parts are SQL, the interpolated values are bound parameters.
    public init(stringInterpolation: StringInterpolation) { fragments = stringInterpolation.fragments }

    /// Trusted SQL text with no parameters.
    public init(raw text: String) { fragments = [.text(text)] }

    /// Builds a ``SQL`` from a string literal with interpolations.
    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var fragments: [Fragment] = []

        /// An empty statement with room for the literal's parts.
        public init(literalCapacity: Int, interpolationCount: Int) {
            fragments.reserveCapacity(interpolationCount * 2 + 1)
        }

        /// Appends literal SQL text.
        public mutating func appendLiteral(_ literal: String) { fragments.append(.text(literal)) }

        /// Binds `value` as a parameter.
        public mutating func appendInterpolation(_ value: some SQLBindable) {
            fragments.append(.bind(value.sqlValue))
        }

        /// Binds an optional value: NULL when nil.
        public mutating func appendInterpolation<Value: SQLBindable>(_ value: Value?) {
            fragments.append(.bind(value?.sqlValue ?? .null))
        }

        /// Splices trusted SQL text (identifiers, dialect fragments). Never user input.
        public mutating func appendInterpolation(raw text: String) { fragments.append(.text(text)) }

        /// Nests another statement fragment, keeping its parameters.
        public mutating func appendInterpolation(_ sql: SQL) { fragments.append(contentsOf: sql.fragments) }
    }

    /// Appends another fragment.
    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var result = lhs
        result.fragments.append(contentsOf: rhs.fragments)
        return result
    }

    /// Joins fragments with a separator, e.g. `AND`.
    public static func joined(_ parts: [SQL], separator: String) -> SQL {
        var result = SQL(raw: "")
        for (index, part) in parts.enumerated() {
            if index > 0 { result.fragments.append(.text(separator)) }
            result.fragments.append(contentsOf: part.fragments)
        }
        return result
    }

    /// The statement text for `dialect` and its parameters, in order.
    public func rendered(for dialect: SQLDialect) -> (text: String, bindings: [SQLValue]) {
        // The text is written as bytes into a string sized once: appending fragment after
        // fragment to a `String` cost a fifth of a provision's work inside its transaction.
        var length = 0, count = 0
        for fragment in fragments {
            switch fragment {
            case .text(let part): length += part.utf8.count
            case .bind: count += 1
            }
        }
        var bindings: [SQLValue] = []
        bindings.reserveCapacity(count)
        // Each placeholder is at most as long as the last one.
        let capacity = length + count * dialect.placeholder(count).utf8.count
        let text = String(unsafeUninitializedCapacity: max(capacity, 1)) { buffer in
            // Closures passed straight to their callees, not a local function: a local function
            // that captures `at` made every append check exclusive access at run time.
            var at = 0
            for fragment in fragments {
                let part: String
                switch fragment {
                case .text(let text):
                    part = text
                case .bind(let value):
                    bindings.append(value)
                    part = dialect.placeholder(bindings.count)
                }
                let size = part.utf8.count
                let copied: Void? = part.utf8.withContiguousStorageIfAvailable { source in
                    if let start = source.baseAddress { (buffer.baseAddress! + at).update(from: start, count: size) }
                }
                if copied == nil {
                    var index = at
                    for byte in part.utf8 { buffer[index] = byte; index += 1 }
                }
                at += size
            }
            return at
        }
        return (text, bindings)
    }

    /// The SQLite rendering, for logs and debugging: shows placeholders, never values.
    public var description: String { rendered(for: .sqlite).text }
}
