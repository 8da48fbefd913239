import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

@Suite struct ClientRegistrationTests {
    @Test(arguments: Engine.allCases)
    func creatingAClientStoresItPendingWithAPrefixedRandomRefid(engine: Engine) async throws {
        try await engine.withClients { clients in
            let acme = try await clients.make().name("  Acme Corporation ").email(" Billing@Acme.com ")
                .metadata(["segment": "Enterprise"]).create()
            #expect(acme.status == .pending)
            #expect(acme.name == "Acme Corporation")
            #expect(acme.email == "Billing@Acme.com")
            #expect(Refid.isWellFormed(acme.refid.rawValue, prefix: "CL-"))
            #expect(acme.isStandalone)
            let found = try await clients.findByRefid(acme.refid)
            #expect(found == acme)
            #expect(try await clients.findByEmail("billing@ACME.com ")?.refid == acme.refid)
            #expect(try await clients.findByRefid(Refid(rawValue: "CL-0000")) == nil)
            await _ = expectClientError(.notFound) { try await clients.find(Refid(rawValue: "CL-0000")) }
            #expect(try await clients.find(refidOrEmail: " BILLING@acme.com").refid == acme.refid)
            #expect(try await clients.find(refidOrEmail: acme.refid.rawValue).refid == acme.refid)
            let missing = await expectClientError(.notFound) { try await clients.find(refidOrEmail: "nobody@acme.com") }
            #expect(missing?.message.contains("nobody") == false)
        }
    }

    @Test(arguments: Engine.allCases)
    func duplicateEmailIsRejectedCaseInsensitivelyAfterTrimmingAndWritesNothing(engine: Engine) async throws {
        try await engine.withClients { clients in
            _ = try await clients.make().name("Acme").email("billing@acme.com").create()
            let error = await expectClientError(.duplicateEmail) {
                try await clients.make().name("Acme 2").email("  BILLING@acme.COM").create()
            }
            #expect(error?.description.hasPrefix("Duplicate Email") == true)
            #expect(try await clients.count() == 1)
            #expect(try await clients.count("client_audit") == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func resellersAreCheckedThroughTheDirectory(engine: Engine) async throws {
        try await engine.withClients { clients in
            let owned = try await clients.make().name("Global Logistics").email("ops@global.example").reseller(reseller1).create()
            #expect(owned.reseller == reseller1)
            #expect(!owned.isStandalone)
            let unknown = await expectClientError(.invalidReseller) {
                try await clients.make().name("X").email("x@x.example").reseller("RS-NOBODY").create()
            }
            #expect(unknown?.description.hasPrefix("Invalid Reseller") == true)
            await _ = expectClientError(.invalidReseller) {
                try await clients.make().name("Y").email("y@y.example").reseller(suspendedReseller).create()
            }
            #expect(try await clients.count() == 1)
            let page = try await clients.getByReseller(reseller1)
            #expect(page.items.map(\.refid) == [owned.refid])
        }
    }

    @Test(arguments: Engine.allCases)
    func resellersAreInvalidWhenNoAllyModuleIsWiredIn(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Clients.install(on: database)
            let clients = Clients(database: database)
            await _ = expectClientError(.invalidReseller) {
                try await clients.make().name("X").email("x@x.example").reseller(reseller1).create()
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func validationErrorsNameTheFieldAndWriteNothing(engine: Engine) async throws {
        try await engine.withClients { clients in
            let cases: [(ClientBuilder, String)] = [
                (clients.make().email("a@b.example"), "name"),
                (clients.make().name("   ").email("a@b.example"), "name"),
                (clients.make().name(String(repeating: "n", count: 256)).email("a@b.example"), "name"),
                (clients.make().name("Tab\tName").email("a@b.example"), "name"),
                (clients.make().name("A"), "email"),
                (clients.make().name("A").email("not-an-email"), "email"),
                (clients.make().name("A").email("a@b"), "email"),
                (clients.make().name("A").email("a..b@c.example"), "email"),
                (clients.make().name("A").email("a@-b.example"), "email"),
                (clients.make().name("A").email("a b@c.example"), "email"),
                (clients.make().name("A").email("ü@c.example"), "email"),
                (clients.make().name("A").email("a@b.example").phone("call me"), "phone"),
            ]
            for (builder, field) in cases {
                let error = await expectClientError(.validation) { try await builder.create() }
                #expect(error?.field == field)
                #expect(error?.description.contains(field) == true)
            }
            #expect(try await clients.count() == 0)
            _ = try await clients.make().name(String(repeating: "n", count: 255)).email("ok+tag@sub.b.example").phone("+1 (555) 010-0000").create()
            #expect(try await clients.count() == 1)
        }
    }

    @Test func configuredDefaultStatusAndPrefixApply() async throws {
        let configuration = try ClientConfiguration(defaultStatus: .active, refidPrefix: "AC-")
        try await Engine.sqlite.withClients(configuration: configuration) { clients in
            let client = try await clients.make().name("A").email("a@b.example").create()
            #expect(client.status == .active)
            #expect(Refid.isWellFormed(client.refid.rawValue, prefix: "AC-"))
        }
        #expect(throws: ClientError.self) { try ClientConfiguration(defaultStatus: .suspended) }
        #expect(throws: ClientError.self) { try ClientConfiguration(refidPrefix: "bad prefix") }
    }

    @Test func configurationReadsTheEnvironmentOverAFileOverDefaults() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("client-\(UUID().uuidString).json")
        try Data(#"{"client": {"default_status": "active", "refid_prefix": "FI-", "auto_bind_user": true}}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try await ClientConfiguration.load(environment: [:], file: file.path)
        #expect(fromFile.defaultStatus == .active)
        #expect(fromFile.refidPrefix == "FI-")
        #expect(fromFile.autoBindUser)
        let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let fromEnvironment = try await ClientConfiguration.load(
            environment: ["CLIENT_REFID_PREFIX": "EN-", "CLIENT_METADATA_ENCRYPTION_KEY": key], file: file.path)
        #expect(fromEnvironment.refidPrefix == "EN-")
        #expect(fromEnvironment.defaultStatus == .active)
        #expect(fromEnvironment.metadataEncryptionKey != nil)
        let defaults = try await ClientConfiguration.load(environment: [:], file: "/nonexistent/client.json")
        #expect(defaults.defaultStatus == .pending)
        #expect(defaults.refidPrefix == "CL-")
        #expect(!defaults.autoBindUser)
        await #expect(throws: ClientError.self) {
            try await ClientConfiguration.load(environment: ["CLIENT_DEFAULT_STATUS": "sideways"])
        }
        await #expect(throws: ClientError.self) {
            try await ClientConfiguration.load(environment: ["CLIENT_METADATA_ENCRYPTION_KEY": "c2hvcnQ="])
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentCreatesWithOneEmailLetExactlyOneWin(engine: Engine) async throws {
        try await engine.withClients(inMemory: false) { clients in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await clients.make().name("Racer \(index)").email("Race@Example.com").create()
                            return true
                        } catch let error as ClientError where error.code == .duplicateEmail {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await clients.count() == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func operationsComposeInOneTransactionAndRollBackTogether(engine: Engine) async throws {
        struct Abort: Error {}
        try await engine.withClients { clients in
            await #expect(throws: Abort.self) {
                try await clients.database.write { tx in
                    let client = try clients.make().name("A").email("a@b.example").create(in: tx)
                    try clients.transition(.activate, client.refid, in: tx)
                    throw Abort()
                }
            }
            #expect(try await clients.count() == 0)
            #expect(try await clients.count("client_audit") == 0)
            #expect(try await clients.analytics().statusBreakdown().total == 0)
            let refid = try await clients.database.write { tx in
                let client = try clients.make().name("A").email("a@b.example").create(in: tx)
                return try clients.transition(.activate, client.refid, in: tx).refid
            }
            #expect(try await clients.find(refid).status == .active)
            #expect(try await clients.analytics().statusBreakdown()[.active] == 1)
        }
    }
}
