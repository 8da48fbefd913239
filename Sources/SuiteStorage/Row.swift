public import SuiteCore

/// One result row: values by position, and by column name.
public struct Row: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value in column `name`; `.null` when the column is absent.
    public subscript(name: String) -> SQLValue {
        guard let index = columns.firstIndex(of: name) else { return .null }
        return values[index]
    }

    public subscript(index: Int) -> SQLValue { values[index] }

    public func int64(_ column: String) throws -> Int64 {
        switch self[column] {
        case .int(let value): return value
        case .double(let value) where value == value.rounded() && abs(value) < 9.0e18: return Int64(value)
        case .text(let text) where Int64(text) != nil: return Int64(text)!
        default: throw StorageError.decoding(column: column, expected: "integer")
        }
    }

    public func optionalInt64(_ column: String) throws -> Int64? {
        if case .null = self[column] { return nil }
        return try int64(column)
    }

    public func double(_ column: String) throws -> Double {
        switch self[column] {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .text(let text) where Double(text) != nil: return Double(text)!
        default: throw StorageError.decoding(column: column, expected: "number")
        }
    }

    public func string(_ column: String) throws -> String {
        guard case .text(let value) = self[column] else {
            throw StorageError.decoding(column: column, expected: "text")
        }
        return value
    }

    public func optionalString(_ column: String) throws -> String? {
        if case .null = self[column] { return nil }
        return try string(column)
    }

    public func bool(_ column: String) throws -> Bool { try int64(column) != 0 }

    public func timestamp(_ column: String) throws -> Timestamp { Timestamp(milliseconds: try int64(column)) }

    public func optionalTimestamp(_ column: String) throws -> Timestamp? {
        try optionalInt64(column).map(Timestamp.init(milliseconds:))
    }

    public func refid(_ column: String) throws -> Refid { Refid(rawValue: try string(column)) }

    public func optionalRefid(_ column: String) throws -> Refid? { try optionalString(column).map(Refid.init(rawValue:)) }

    public func blob(_ column: String) throws -> [UInt8] {
        guard case .blob(let bytes) = self[column] else {
            throw StorageError.decoding(column: column, expected: "bytes")
        }
        return bytes
    }

    public func optionalBlob(_ column: String) throws -> [UInt8]? {
        if case .null = self[column] { return nil }
        return try blob(column)
    }
}
