public import Foundation

/// The one JSON configuration for everything the suite prints, signs or serves: `snake_case`
/// keys, instants as ISO 8601 in UTC (`2026-12-02T09:25:27Z`), refids as strings, money as
/// integer minor units. `dock --json`, the webhooks and the HTTP service all encode with it.
///
/// ```swift
/// let data = try SuiteJSON.encoder().encode(client)   // {"created_at":"2026-…Z","email":…,"refid":"CL-…",…}
/// ```
public enum SuiteJSON {
    /// An encoder with the suite's configuration; `pretty` indents (the CLI), keys are always sorted.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                                          : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A decoder that reads what ``encoder(pretty:)`` writes.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// An optional model field that encodes as `null` when it has no value, instead of being left
/// out: every field of a public model is always present in its JSON, so a reader can tell "no
/// reseller" from an older schema. Decoding accepts `null` and a missing key alike.
///
/// ```swift
/// public struct Client: Codable {
///     @ExplicitNull public var reseller: Refid?   // "reseller": null
/// }
/// ```
@propertyWrapper
public struct ExplicitNull<Value> {
    /// The field's value; nil encodes as `null`.
    public var wrappedValue: Value?
    /// Wraps the field's initial value.
    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }
}

extension ExplicitNull: Sendable where Value: Sendable {}
extension ExplicitNull: Equatable where Value: Equatable {}
extension ExplicitNull: Hashable where Value: Hashable {}

extension ExplicitNull: Encodable where Value: Encodable {
    /// Encodes the value, or `null` when there is none.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension ExplicitNull: Decodable where Value: Decodable {
    /// Decodes the value; `null` gives nil.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }
}

extension KeyedDecodingContainer {
    /// A missing key decodes as no value, as `null` does.
    public func decode<Value: Decodable>(_ type: ExplicitNull<Value>.Type, forKey key: Key) throws -> ExplicitNull<Value> {
        ExplicitNull(wrappedValue: try decodeIfPresent(Value.self, forKey: key))
    }
}

/// Two models encoded as one JSON object: `base`'s fields and `extra`'s beside them (a reseller
/// and its balance, a payment and its invoice). `dock --json` and the HTTP API print the same
/// merged shapes.
public struct Merged<Base: Encodable, Extra: Encodable>: Encodable {
    /// The model whose fields come first.
    public var base: Base
    /// The fields added beside them.
    public var extra: Extra

    /// `base` with `extra`'s fields.
    public init(_ base: Base, _ extra: Extra) {
        self.base = base
        self.extra = extra
    }

    /// Encodes both into the one container.
    public func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        try extra.encode(to: encoder)
    }
}
