public import SuiteCore

/// One result row: values by position, and by column name.
public struct Row: Sendable {
    /// The column names, in the statement's order.
    public let columns: [String]
    /// The values, in the same order as ``columns``.
    public let values: [SQLValue]

    /// A row of `values` named by `columns` (what a driver builds).
    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value in column `name`; `.null` when the column is absent.
    public subscript(name: String) -> SQLValue {
        guard let index = columns.firstIndex(of: name) else { return .null }
        return values[index]
    }

    /// The value at position `index` (which must be in range).
    public subscript(index: Int) -> SQLValue { values[index] }

    /// The integer in `column`; whole doubles and numeric text are accepted. Throws `.decoding` otherwise.
    public func int64(_ column: String) throws -> Int64 {
        switch self[column] {
        case .int(let value): return value
        case .double(let value) where value == value.rounded() && abs(value) < 9.0e18: return Int64(value)
        case .text(let text) where Int64(text) != nil: return Int64(text)!
        default: throw StorageError.decoding(column: column, expected: "integer")
        }
    }

    /// The integer in `column`, or nil for SQL `NULL`.
    public func optionalInt64(_ column: String) throws -> Int64? {
        if case .null = self[column] { return nil }
        return try int64(column)
    }

    /// The number in `column`; integers and numeric text are accepted. Throws `.decoding` otherwise.
    public func double(_ column: String) throws -> Double {
        switch self[column] {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .text(let text) where Double(text) != nil: return Double(text)!
        default: throw StorageError.decoding(column: column, expected: "number")
        }
    }

    /// The text in `column`; throws `.decoding` for any other kind of value.
    public func string(_ column: String) throws -> String {
        guard case .text(let value) = self[column] else {
            throw StorageError.decoding(column: column, expected: "text")
        }
        return value
    }

    /// The text in `column`, or nil for SQL `NULL`.
    public func optionalString(_ column: String) throws -> String? {
        if case .null = self[column] { return nil }
        return try string(column)
    }

    /// The integer in `column` as a flag: any non-zero value is true.
    public func bool(_ column: String) throws -> Bool { try int64(column) != 0 }

    /// The instant in `column`, stored as integer milliseconds since 1970.
    public func timestamp(_ column: String) throws -> Timestamp { Timestamp(milliseconds: try int64(column)) }

    /// The instant in `column`, or nil for SQL `NULL`.
    public func optionalTimestamp(_ column: String) throws -> Timestamp? {
        try optionalInt64(column).map(Timestamp.init(milliseconds:))
    }

    /// The refid stored as text in `column`.
    public func refid(_ column: String) throws -> Refid { Refid(rawValue: try string(column)) }

    /// The refid in `column`, or nil for SQL `NULL`.
    public func optionalRefid(_ column: String) throws -> Refid? { try optionalString(column).map(Refid.init(rawValue:)) }

    /// The bytes in `column`; throws `.decoding` for any other kind of value.
    public func blob(_ column: String) throws -> [UInt8] {
        guard case .blob(let bytes) = self[column] else {
            throw StorageError.decoding(column: column, expected: "bytes")
        }
        return bytes
    }

    /// The bytes in `column`, or nil for SQL `NULL`.
    public func optionalBlob(_ column: String) throws -> [UInt8]? {
        if case .null = self[column] { return nil }
        return try blob(column)
    }
}
