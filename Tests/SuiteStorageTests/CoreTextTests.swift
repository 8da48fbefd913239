import Crypto
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

/// The fast paths in SuiteCore give exactly what the Foundation calls they stand in for give:
/// stored fingerprints and digests depend on it.
@Suite struct CoreTextTests {
    /// What `jsonText()` gave before its direct writer, and still gives for what it refuses.
    static func encoderText(_ metadata: Metadata) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(metadata), as: UTF8.self)
    }

    @Test func jsonTextIsByteForByteWhatJSONEncoderWritesForThousandsOfRandomObjects() throws {
        var random = SplitMix64(seed: 0x5EED)
        var direct = 0
        for _ in 0..<3_000 {
            let metadata = Self.object(depth: 0, using: &random)
            let text = metadata.jsonText()
            #expect(text == (try Self.encoderText(metadata)), "\(metadata)")
            if Self.isDirect(.object(metadata)) { direct += 1 }
        }
        #expect(direct > 100)  // the generator reaches the direct writer, not only the fallback
    }

    @Test func jsonTextEscapesAndSortsLikeJSONEncoder() throws {
        var control = ""
        for value in 0..<0x20 { control.unicodeScalars.append(Unicode.Scalar(UInt8(value))) }
        let cases: [Metadata] = [
            ["reseller": "RS-123"],
            ["10": 1, "9": 2, "B": 3, "_x": 4, "a": 5, "a_b": 6, "ab": 7, "": 8],
            ["text": .string(control + "\"\\/\u{7F}\u{2028}é😀")],
            ["k\u{1B}": .null, "t": true, "f": false, "min": .int(.min), "max": .int(.max)],
            ["nested": ["z": [1, "two", ["b": 1, "a": 2]], "a": [:], "m": []]],
            ["double": 1.5],  // refused by the writer: JSONEncoder formats it
            ["Ä": "non-ASCII key"],  // refused too
        ]
        for metadata in cases {
            #expect(metadata.jsonText() == (try Self.encoderText(metadata)))
        }
        #expect(Metadata().jsonText() == "{}")
        #expect((["b": 1, "a": "x/y"] as Metadata).jsonText() == #"{"a":"x/y","b":1}"#)
    }

    @Test func trimmingWhitespaceMatchesFoundation() {
        let samples = ["", " ", "plain", " lead", "trail ", "\tboth\n", "\u{A0}nbsp\u{A0}", "\u{2028}line\u{2029}",
                       "é", " é ", "\u{85}next", "mid dle", "\r\n", "x\u{0B}", "\u{3000}ideographic"]
        for sample in samples {
            #expect(trimmingWhitespace(sample) == sample.trimmingCharacters(in: .whitespacesAndNewlines), "\(sample.debugDescription)")
            #expect(trimmingWhitespace(sample, newlines: false) == sample.trimmingCharacters(in: .whitespaces),
                    "\(sample.debugDescription)")
        }
    }

    @Test func controlCharactersAndLengthChecks() {
        #expect(!containsControlCharacters("Pro licence / EU"))
        #expect(!containsControlCharacters("Café 😀"))
        #expect(containsControlCharacters("tab\there"))
        #expect(containsControlCharacters("del\u{7F}"))
        #expect(containsControlCharacters("c1\u{85}"))
        #expect(containsControlCharacters("é\u{9F}"))
        #expect(hasAtMostCharacters("abc", 3))
        #expect(!hasAtMostCharacters("abcd", 3))
        #expect(hasAtMostCharacters("ééé", 3))  // 6 bytes, 3 characters
        #expect(!hasAtMostCharacters("éééé", 3))
    }

    @Test func lowercaseHexOfADigestMatchesFormattedBytes() {
        let digest = SHA256.hash(data: Data("ClientSuite".utf8))
        let expected = digest.map { String(format: "%02x", $0) }.joined()
        #expect(digest.withUnsafeBytes { lowercaseHex($0) } == expected)
        #expect(lowercaseHex(digest) == expected)
        #expect(lowercaseHex([0x00, 0x0F, 0xF0, 0xFF]) == "000ff0ff")
        #expect(lowercaseHex([UInt8]()) == "")
    }

    @Test func theOpenCatalogTakesASCIICodesOfOneTo64LettersDigitsDotsDashesAndUnderscores() async throws {
        let catalog = OpenProductCatalog()
        let good = ["PRO", "pro-1y.v2_x", String(repeating: "z", count: 64), "0"]
        let bad = ["", "a b", "Ä", "é1", String(repeating: "z", count: 65), "x/y", "tab\t", "emoji😀"]
        let (accepted, refused) = try await Engine.sqlite.withDatabase { database in
            try await database.read { tx in
                (try good.map { try catalog.product($0, in: tx)?.code }, try bad.map { try catalog.product($0, in: tx) })
            }
        }
        #expect(accepted == good)
        #expect(refused.allSatisfy { $0 == nil }, "\(zip(bad, refused).filter { $0.1 != nil }.map(\.0))")
    }

    @Test func rememberedFactsKeepValuesUntilTheCapacityThenStartAgain() {
        let facts = RememberedFacts<String, Int>(capacity: 3)
        #expect(facts["a"] == nil)
        facts.remember(1, for: "a")
        facts.remember(2, for: "b")
        facts.remember(3, for: "c")
        #expect(facts["a"] == 1 && facts["b"] == 2 && facts["c"] == 3)
        facts.remember(4, for: "d")  // past the capacity: only the newest is kept
        #expect(facts["a"] == nil && facts["c"] == nil && facts["d"] == 4)
    }

    // MARK: Generating metadata

    /// Whether the direct writer takes it: no double anywhere, every key ASCII.
    static func isDirect(_ value: JSONValue) -> Bool {
        switch value {
        case .double: false
        case .array(let items): items.allSatisfy(isDirect)
        case .object(let fields): fields.allSatisfy { $0.key.utf8.allSatisfy { $0 < 0x80 } && isDirect($0.value) }
        default: true
        }
    }

    static func object(depth: Int, using random: inout SplitMix64) -> Metadata {
        var fields: Metadata = [:]
        for _ in 0..<Int(random.next() % 5) {
            fields[key(using: &random)] = value(depth: depth + 1, using: &random)
        }
        return fields
    }

    static func value(depth: Int, using random: inout SplitMix64) -> JSONValue {
        let choices: UInt64 = depth >= 3 ? 5 : 7
        switch random.next() % choices {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2: return .int(Int64(bitPattern: random.next()) >> Int64(random.next() % 64))
        case 3: return .string(text(using: &random))
        case 4: return random.next() % 8 == 0 ? .double(Double(Int64(bitPattern: random.next()) % 10_000) / 8) : .string("x")
        case 5: return .array((0..<Int(random.next() % 4)).map { _ in value(depth: depth + 1, using: &random) })
        default: return .object(object(depth: depth, using: &random))
        }
    }

    /// Mostly ASCII keys (letters, digits, punctuation, now and then a control character), and
    /// once in a while a non-ASCII one, which sends the object to the encoder.
    static func key(using random: inout SplitMix64) -> String {
        if random.next() % 40 == 0 { return "ключ" + String(random.next() % 10) }
        let alphabet = Array("abcAB09_-. /\\\"\u{1}\u{1F}zZ~".unicodeScalars)
        var key = ""
        for _ in 0..<Int(random.next() % 6) { key.unicodeScalars.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
        return key
    }

    static func text(using random: inout SplitMix64) -> String {
        let alphabet = Array("aZ09 \"\\/\n\t\r\u{8}\u{C}\u{0}\u{1B}\u{7F}é€😀\u{2028}\u{A0}".unicodeScalars)
        var text = ""
        for _ in 0..<Int(random.next() % 12) { text.unicodeScalars.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
        return text
    }
}
