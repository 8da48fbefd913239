import Ally
import Client
import Forge
import Foundation
import Suite
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wave

/// One naming convention across the modules: `find(_:)` throws the module's "… Not Found",
/// `findByRefid(_:)` answers nil, and `find(refidOr…:)` takes what a person typed.
@Suite struct NamingConventionTests {
    @Test(arguments: Engine.allCases)
    func findThrowsNotFoundAndFindByRefidAnswersNil(engine: Engine) async throws {
        try await withSuite(engine) { fixture in
            let suite = fixture.suite
            let missing = Refid(rawValue: "XX-MISSING")
            let messages = [
                await expectError(.notFound, as: ClientError.self) { try await suite.clients.find(missing) }?.description,
                await expectError(.notFound, as: AllyError.self) { try await suite.allies.find(missing) }?.description,
                await expectError(.notFound, as: ForgeError.self) { try await suite.licences.find(missing) }?.description,
                await expectError(.notFound, as: WaveError.self) { try await suite.products.find(missing) }?.description,
                await expectError(.notFound, as: WaveError.self) { try await suite.invoices.find(missing) }?.description,
                await expectError(.notFound, as: WaveError.self) { try await suite.subscriptions.plans.find(missing) }?.description,
                await expectError(.notFound, as: WaveError.self) { try await suite.subscriptions.find(missing) }?.description,
            ]
            #expect(messages.map { $0?.contains("Not Found") } == Array(repeating: true, count: 7))
            #expect(try await suite.clients.findByRefid(missing) == nil)
            #expect(try await suite.allies.findByRefid(missing) == nil)
            #expect(try await suite.licences.findByRefid(missing) == nil)
            #expect(try await suite.products.findByRefid(missing) == nil)
            #expect(try await suite.invoices.findByRefid(missing) == nil)
            #expect(try await suite.subscriptions.plans.findByRefid(missing) == nil)
            #expect(try await suite.subscriptions.findByRefid(missing) == nil)

            let pro = try await suite.products.find(refidOrSlug: "pro-1y")
            #expect(try await suite.products.find(pro.refid) == pro)
            #expect(try await suite.products.findBySlug("pro-1y") == pro)
            let plan = try await suite.subscriptions.plans.create(name: "Pro", slug: "pro-monthly", price: 1_900, currency: "USD",
                                                                 interval: .monthly)
            #expect(try await suite.subscriptions.plans.find(refidOrSlug: "pro-monthly") == plan)
            #expect(try await suite.subscriptions.plans.find(refidOrSlug: plan.refid.rawValue) == plan)
            await expectError(.notFound, as: WaveError.self) { try await suite.subscriptions.plans.find(refidOrSlug: "nope") }
        }
    }
}
