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
    /// JSON `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number without a fraction, kept exact.
    case int(Int64)
    /// A number with a fraction or exponent.
    case double(Double)
    /// A string.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object: keys to values.
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
    /// `"text"` is ``string(_:)``.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `40` is ``int(_:)``.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// `1.5` is ``double(_:)``.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// `true` is ``bool(_:)``.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `["eu", 1]` is ``array(_:)``.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// `["seats": 40]` is ``object(_:)``; of two equal keys, the last wins.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    /// `nil` is ``null``.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: Codable {
    /// Decodes any JSON value, trying `Int64` before `Double` so that integers stay exact.
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

    /// Encodes the value as the JSON it stands for.
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
    ///
    /// Metadata without floating-point numbers and with ASCII keys — what the modules themselves
    /// write on every transfer and licence — is written directly, byte for byte what
    /// `JSONEncoder` gives (proven by test); anything else goes through `JSONEncoder`.
    public func jsonText() -> String {
        if isEmpty { return "{}" }  // the common case, without an encoder
        var direct = JSONTextWriter()
        if direct.write(object: self) { return direct.text }
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

/// Writes JSON exactly as `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` does, for
/// the values whose text is certain: integers, strings, booleans, null, arrays, and objects whose
/// keys are ASCII (sorted byte by byte, as the encoder sorts them). It refuses a double (the
/// encoder's number formatting is its own) and a non-ASCII key, and the caller falls back.
struct JSONTextWriter {
    private var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(128) }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// False when the object holds something this writer leaves to the encoder.
    mutating func write(object: [String: JSONValue]) -> Bool {
        for key in object.keys where !key.utf8.allSatisfy({ $0 < 0x80 }) { return false }
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for key in object.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            write(string: key)
            bytes.append(UInt8(ascii: ":"))
            guard write(object[key]!) else { return false }
        }
        bytes.append(UInt8(ascii: "}"))
        return true
    }

    private mutating func write(_ value: JSONValue) -> Bool {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): bytes.append(contentsOf: String(number).utf8)
        case .double: return false
        case .string(let string): write(string: string)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                guard write(item) else { return false }
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let fields):
            return write(object: fields)
        }
        return true
    }

    /// A quoted string: `"` and `\` escaped, control characters as `\n`-style or `\u00xx`
    /// escapes, everything else (slashes, non-ASCII) as its own UTF-8.
    private mutating func write(string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
