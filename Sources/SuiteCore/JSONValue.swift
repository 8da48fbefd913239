import Foundation

/// A JSON value. Metadata is a JSON object: `[String: JSONValue]`.
///
/// Integers and floating-point numbers are kept apart so that an integer survives a round trip
/// through storage exactly.
///
/// ```swift
/// let metadata: Metadata = ["segment": "Enterprise", "seats": 40, "tags": ["eu", "priority"]]
/// ```
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Nesting depth: 0 for a scalar, 1 for an array or object of scalars, and so on.
    public var depth: Int {
        switch self {
        case .array(let items): 1 + (items.map(\.depth).max() ?? 0)
        case .object(let fields): 1 + (fields.values.map(\.depth).max() ?? 0)
        default: 0
        }
    }
}

/// Free-form attributes of a record: a JSON object.
public typealias Metadata = [String: JSONValue]

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Encodes the object as compact JSON with sorted keys (stable output for storage and tests).
    public func jsonText() -> String {
        if isEmpty { return "{}" }  // the common case, without an encoder
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a [String: JSONValue] cannot fail: every case maps to a JSON value, and
        // non-finite doubles are rejected before they get here (see MetadataPolicy).
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Decodes a JSON object; nil if `text` is not one.
    public init?(jsonText text: String) {
        if text == "{}" {
            self = [:]
            return
        }
        guard let value = try? JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8)) else {
            return nil
        }
        self = value
    }

    /// Shallow merge: keys in `other` replace keys here; a `null` value removes the key.
    public func merging(metadata other: Metadata) -> Metadata {
        var result = self
        for (key, value) in other {
            if value == .null { result.removeValue(forKey: key) } else { result[key] = value }
        }
        return result
    }
}
