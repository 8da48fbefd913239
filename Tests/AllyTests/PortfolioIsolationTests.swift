import Ally
import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

/// A reseller reaches its own clients through `clients.portfolio(of:)`, and nobody else's.
@Suite struct PortfolioIsolationTests {
    private func expectNotFound<T>(_ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            _ = try await body()
            Issue.record("expected Client Not Found", sourceLocation: sourceLocation)
        } catch let error as ClientError {
            #expect(error.code == .notFound, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected ClientError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Engine.allCases)
    func aResellerCannotReadOrChangeAnotherResellersClientThroughItsPortfolio(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Allies.install(on: database)
            try await Clients.install(on: database)
            let allies = Allies(database: database)
            let clients = Clients(database: database, resellers: allies)
            let north = try await allies.make().user("u-1").company("Northwind").create()
            let contoso = try await allies.make().user("u-2").company("Contoso").create()
            let mine = clients.portfolio(of: north.refid)
            let theirs = clients.portfolio(of: contoso.refid)

            let acme = try await mine.make().name("Acme").email("it@acme.example").create()
            #expect(acme.reseller == north.refid)
            let beta = try await theirs.make().name("Beta").email("it@beta.example").create()
            let solo = try await clients.make().name("Solo").email("solo@x.example").create()

            // Reads.
            #expect(try await mine.find(acme.refid).refid == acme.refid)
            for other in [beta.refid, solo.refid, Refid(rawValue: "CL-NOBODY")] {
                await expectNotFound { try await mine.find(other) }
                #expect(try await mine.findByRefid(other) == nil)
                await expectNotFound { try await mine.auditTrail(of: other) }
            }
            #expect(try await mine.query().fetch().items.map(\.refid) == [acme.refid])
            #expect(try await mine.query().forReseller(contoso.refid).fetch().items.isEmpty)
            #expect(try await mine.query().standalone().fetch().items.isEmpty)
            #expect(try await mine.analytics().statusBreakdown().total == 1)
            do {
                _ = try await mine.analytics().forReseller(contoso.refid).statusBreakdown()
                Issue.record("expected the portfolio to refuse another reseller's analytics")
            } catch let error as ClientError {
                #expect(error.code == .invalidQuery)
            }

            // Changes: every one refused with nothing written.
            let before = try await clients.find(beta.refid)
            await expectNotFound { try await mine.activate(beta.refid) }
            await expectNotFound { try await mine.deactivate(beta.refid) }
            await expectNotFound { try await mine.updateMetadata(beta.refid, merging: ["hijacked": true]) }
            await expectNotFound { try await mine.bindUser("intruder", to: beta.refid) }
            await expectNotFound { try await mine.activate(solo.refid) }
            let after = try await clients.find(beta.refid)
            #expect(after == before)
            #expect(try await clients.auditTrail(of: beta.refid).count == 1)
            #expect(try await clients.findByUser("intruder") == nil)

            // A portfolio cannot create clients for someone else.
            do {
                _ = try await mine.make().name("Sneaky").email("s@x.example").reseller(contoso.refid).create()
                Issue.record("expected Invalid Reseller")
            } catch let error as ClientError {
                #expect(error.code == .invalidReseller)
            }
            #expect(try await clients.findByEmail("s@x.example") == nil)

            // Its own clients change as usual.
            #expect(try await mine.activate(acme.refid, actor: "partner").status == .active)
            #expect(try await mine.updateMetadata(acme.refid, merging: ["plan": "pro"]).metadata["plan"] == "pro")
            #expect(try await mine.bindUser("u-acme", to: acme.refid).userID == "u-acme")
            #expect(try await mine.unbindUser(from: acme.refid).userID == nil)
        }
    }
}
