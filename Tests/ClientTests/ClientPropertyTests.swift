import Client
import Foundation
import PropertyBased
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

/// Random, hostile input through the builder: every call either creates exactly one client or
/// throws a typed `ClientError`, and nothing partial is ever written.
@Suite(.shrinking(false)) struct ClientPropertyTests {
    static let anyScalar = Gen.oneOf(
        Gen.unicodeScalar(in: "\u{0}"..."\u{D7FF}"),
        Gen.unicodeScalar(in: "\u{E000}"..."\u{10FFFF}"))
    static let unicodeText = anyScalar.map(Character.init).string(of: 0...80)
    static let emailish = Gen.oneOf(
        unicodeText,
        zip(Gen.letterOrNumber.string(of: 0...12), Gen.letterOrNumber.string(of: 0...12)).map { "\($0)@\($1).example" },
        zip(unicodeText, Gen.letterOrNumber.string(of: 1...8)).map { "\($0)@\($1).com" },
        Gen.ascii.string(of: 0...40))

    @Test(arguments: Engine.allCases)
    func randomUnicodeAndControlCharactersNeverCrashOrWritePartially(engine: Engine) async throws {
        try await engine.withClients { clients in
            var successes: Int64 = 0
            await propertyCheck(count: 300, input: Self.unicodeText, Self.emailish, Self.unicodeText) { name, email, phone in
                do {
                    let client = try await clients.make().name(name).email(email).phone(phone)
                        .metadata([name.isEmpty ? "k" : String(name.prefix(20)): .string(phone)]).create()
                    successes += 1
                    #expect(!client.name.isEmpty && client.name.count <= 255)
                    #expect(!client.name.containsControl)
                } catch let error as ClientError {
                    #expect(!error.description.isEmpty)
                } catch {
                    Issue.record("untyped error: \(String(reflecting: error))")
                }
            }
            let observed38 = try await clients.count()
            #expect(observed38 == successes)
            let observed39 = try await clients.count("client_audit")
            #expect(observed39 == successes)
            let observed40 = try await clients.analytics().statusBreakdown().total
            #expect(observed40 == successes)
        }
    }

    @Test func megabyteStringsAreRejectedWithAFieldError() async throws {
        try await Engine.sqlite.withClients { clients in
            await propertyCheck(count: 3, input: Gen.ascii.string(of: 1_000_000...1_048_576)) { huge in
                let asName = await expectClientError(.validation) { try await clients.make().name(huge).email("a@t.example").create() }
                #expect(asName?.field == "name")
                let asEmail = await expectClientError(.validation) { try await clients.make().name("A").email(huge).create() }
                #expect(asEmail?.field == "email")
                await _ = expectClientError(.invalidMetadata) {
                    try await clients.make().name("A").email("a@t.example").metadata(["notes": .string(huge)]).create()
                }
            }
            let observed55 = try await clients.count()
            #expect(observed55 == 0)
        }
    }

    @Test func deepOrHugeMetadataIsRejected() async throws {
        let nested = Generator<Metadata, Shrink.None<Metadata>> { rng in
            var value: JSONValue = .int(Int64.random(in: 0...9, using: &rng))
            for level in 0..<Int.random(in: 6...400, using: &rng) { value = .object(["l\(level)": value]) }
            return ["root": value]
        }
        let wide = Gen.int(in: 2_000...20_000).map { count -> Metadata in
            Dictionary(uniqueKeysWithValues: (0..<count).map { ("key\($0)", JSONValue.int(Int64($0))) })
        }
        try await Engine.sqlite.withClients { clients in
            await propertyCheck(count: 20, input: nested, wide) { deep, huge in
                await _ = expectClientError(.invalidMetadata) { try await clients.make().name("A").email("a@t.example").metadata(deep).create() }
                await _ = expectClientError(.invalidMetadata) { try await clients.make().name("A").email("a@t.example").metadata(huge).create() }
            }
            let observed73 = try await clients.count()
            #expect(observed73 == 0)
        }
    }

    @Test func malformedEmailsAreRejected() async throws {
        let malformed = Gen.oneOf(
            Gen.letterOrNumber.string(of: 1...20),                                    // no @
            Gen.letterOrNumber.string(of: 1...10).map { "\($0)@" },                   // no domain
            Gen.letterOrNumber.string(of: 1...10).map { "@\($0).com" },               // no local part
            Gen.letterOrNumber.string(of: 1...10).map { "\($0)@\($0)" },              // one label
            Gen.letterOrNumber.string(of: 1...10).map { "\($0)@@\($0).com" },          // two @
            Gen.letterOrNumber.string(of: 1...10).map { "\($0)..x@\($0).com" },        // double dot
            Gen.letterOrNumber.string(of: 1...10).map { "\($0)@\($0).c0m1" },          // numeric TLD
            Gen.letterOrNumber.string(of: 65...80).map { "\($0)@x.com" })              // local part too long
        try await Engine.sqlite.withClients { clients in
            await propertyCheck(count: 200, input: malformed) { email in
                let error = await expectClientError(.validation) { try await clients.make().name("A").email(email).create() }
                #expect(error?.field == "email")
            }
            let observed92 = try await clients.count()
            #expect(observed92 == 0)
        }
    }
}

extension String {
    var containsControl: Bool { unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) } }
}
