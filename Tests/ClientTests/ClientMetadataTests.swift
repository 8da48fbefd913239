import Client
import Crypto
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

@Suite struct ClientMetadataTests {
    static let key = SymmetricKey(size: .bits256)

    @Test(arguments: [
        "password", "db_password", "apiKey", "api-key", "API_KEY", "token", "accessToken", "client_secret",
        "card", "card_number", "creditCard", "cvv", "pin", "privateKey", "ssn", "iban",
    ])
    func secretLookingKeysAreRefusedInPlainMetadata(key: String) async throws {
        try await Engine.sqlite.withClients { clients in
            let error = await expectClientError(.invalidMetadata) {
                try await clients.make().name("A").email("a@t.example").metadata([key: "x"]).create()
            }
            #expect(error?.description.contains(key) == true)
            await _ = expectClientError(.invalidMetadata) {
                try await clients.make().name("A").email("a@t.example").metadata(["billing": ["nested": [key: "x"]]]).create()
            }
            let observed25 = try await clients.count()
            #expect(observed25 == 0)
        }
    }

    @Test(arguments: ["shipping", "classname", "business", "segment", "discard_reason", "keyboard", "tokenizer_version"])
    func ordinaryKeysThatMerelyContainSecretLettersAreAccepted(key: String) async throws {
        try await Engine.sqlite.withClients { clients in
            let client = try await clients.make().name("A").email("a@t.example").metadata([key: "x"]).create()
            #expect(client.metadata[key] == "x")
        }
    }

    @Test(arguments: Engine.allCases)
    func secretsAreStoredEncryptedAndReadBackWithTheKey(engine: Engine) async throws {
        let configuration = try ClientConfiguration(metadataEncryptionKey: Self.key)
        try await engine.withClients(configuration: configuration) { clients in
            let client = try await clients.make().name("A").email("a@t.example")
                .metadata(["segment": "SMB"]).secretMetadata(["api_key": "sk_live_SUPERSECRET"]).create()
            #expect(client.hasSecretMetadata)
            #expect(client.metadata == ["segment": "SMB"])
            let stored = try await clients.database.read { tx in
                try tx.queryFirst("SELECT secret_metadata, metadata FROM client_clients")
            }
            let blob = try #require(try stored?.blob("secret_metadata"))
            #expect(!String(decoding: blob, as: UTF8.self).contains("SUPERSECRET"))
            #expect(try stored?.string("metadata").contains("SUPERSECRET") == false)
            #expect(try await clients.secretMetadata(of: client.refid) == ["api_key": "sk_live_SUPERSECRET"])
            let updated = try await clients.updateMetadata(client.refid, merging: ["seats": 10], secrets: ["token": "t2"])
            #expect(updated.metadata == ["segment": "SMB", "seats": 10])
            #expect(try await clients.secretMetadata(of: client.refid) == ["api_key": "sk_live_SUPERSECRET", "token": "t2"])
            // Another key cannot read it.
            let other = Clients(database: clients.database,
                                configuration: try ClientConfiguration(metadataEncryptionKey: SymmetricKey(size: .bits256)))
            await _ = expectClientError(.encryption) { try await other.secretMetadata(of: client.refid) }
        }
    }

    @Test func secretsWithoutAConfiguredKeyAreRefusedAndWriteNothing() async throws {
        try await Engine.sqlite.withClients { clients in
            await _ = expectClientError(.encryption) {
                try await clients.make().name("A").email("a@t.example").secretMetadata(["password": "hunter2"]).create()
            }
            let observed67 = try await clients.count()
            #expect(observed67 == 0)
        }
    }

    @Test(arguments: Engine.allCases)
    func metadataMergesAcrossCallsAndUpdatesAndNullRemovesAKey(engine: Engine) async throws {
        try await engine.withClients { clients in
            let client = try await clients.make().name("A").email("a@t.example")
                .metadata(["segment": "SMB", "seats": 5]).metadata(["seats": 7, "region": "eu"]).create()
            #expect(client.metadata == ["segment": "SMB", "seats": 7, "region": "eu"])
            let updated = try await clients.updateMetadata(client.refid, merging: ["region": nil, "tier": ["level": 2]])
            #expect(updated.metadata == ["segment": "SMB", "seats": 7, "tier": ["level": 2]])
            #expect(try await clients.find(client.refid).metadata == updated.metadata)
            await _ = expectClientError(.invalidMetadata) { try await clients.updateMetadata(client.refid, merging: ["password": "x"]) }
            #expect(try await clients.find(client.refid).metadata == updated.metadata)
        }
    }

    @Test func sizeAndDepthLimitsGiveClearErrors() async throws {
        let configuration = try ClientConfiguration(metadataMaxBytes: 1024, metadataMaxDepth: 3)
        try await Engine.sqlite.withClients(configuration: configuration) { clients in
            let deep: Metadata = ["a": ["b": ["c": ["d": 1]]]]
            let depthError = await expectClientError(.invalidMetadata) {
                try await clients.make().name("A").email("a@t.example").metadata(deep).create()
            }
            #expect(depthError?.description.contains("limit is 3") == true)
            let big: Metadata = ["blob": .string(String(repeating: "x", count: 2000))]
            let sizeError = await expectClientError(.invalidMetadata) {
                try await clients.make().name("A").email("a@t.example").metadata(big).create()
            }
            #expect(sizeError?.description.contains("limit is 1024") == true)
            await _ = expectClientError(.invalidMetadata) {
                try await clients.make().name("A").email("a@t.example").metadata(["n": .double(.nan)]).create()
            }
            await _ = expectClientError(.invalidMetadata) {
                try await clients.make().name("A").email("a@t.example").metadata(["": 1]).create()
            }
            #expect(try await clients.count() == 0)
            _ = try await clients.make().name("A").email("a@t.example").metadata(["a": ["b": ["c": 1]]]).create()
        }
    }
}
